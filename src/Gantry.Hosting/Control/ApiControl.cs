using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Gantry.Hosting.Control;

/// <summary>
/// The commands over a server's HTTP API (<c>--server URL --token T</c>): the same requests and the
/// same answers as on a store, so the commands cannot tell the difference. The server's problem
/// details come back as the <see cref="GantryException"/>s the store would have thrown.
/// </summary>
public sealed class ApiControl : IGantryControl
{
    private readonly HttpClient _http;
    private readonly Uri _server;

    /// <param name="server">The server's base URL, e.g. <c>http://host:5080</c>.</param>
    /// <param name="token">The API token sent as a bearer token; null for a server that asks for none.</param>
    public ApiControl(Uri server, string? token)
    {
        _server = server;
        _http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromSeconds(60) };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <inheritdoc/>
    public string Description => $"server {_server}";

    /// <inheritdoc/>
    public async Task<IReadOnlyList<JobEnqueueResult>> JobSubmitAsync(IReadOnlyList<(JobDraft Draft, NewJob Job)> jobs, bool allowUnknownTypes,
        IReadOnlyList<string> knownTypes, CancellationToken ct)
    {
        // Sent as an array even for one job, so the answer is always an array. The server knows its own configured types.
        using var body = new ByteArrayContent(JobDocumentWriter.WriteArray(jobs.Select(j => j.Draft)));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var views = await SendAsync(HttpMethod.Post, $"api/v1/jobs{(allowUnknownTypes ? "?allow_unknown_type=true" : "")}", body, ApiJson.Default.SubmitViewArray, ct).ConfigureAwait(false);
        return views.Select(v => new JobEnqueueResult(Guid.Parse(v.Id), v.Existing, JobStates.Parse(v.State))).ToArray();
    }

    /// <inheritdoc/>
    public async Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct)
    {
        try
        {
            return (await SendAsync(HttpMethod.Get, $"api/v1/jobs/{id}", null, ApiJson.Default.JobView, ct).ConfigureAwait(false)).ToRecord();
        }
        catch (JobNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async Task<JobRecord?> JobWaitAsync(Guid id, TimeSpan wait, CancellationToken ct)
    {
        // The server holds the request until the job ends, at most its longest wait; the client's timeout is longer.
        var seconds = Math.Min(wait.TotalSeconds, JobWaits.LongestRequest.TotalSeconds - 5);
        try
        {
            return (await SendAsync(HttpMethod.Get, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"api/v1/jobs/{id}?wait={seconds:0.###}s"), null,
                ApiJson.Default.JobView, ct).ConfigureAwait(false)).ToRecord();
        }
        catch (JobNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct)
    {
        var query = new List<string> { $"limit={p.Limit}" };
        if (p.State is { } state) query.Add($"state={state.ToText()}");
        if (p.Queue is not null) query.Add($"queue={Uri.EscapeDataString(p.Queue)}");
        if (p.Type is not null) query.Add($"type={Uri.EscapeDataString(p.Type)}");
        if (p.Before is { } before) query.Add($"cursor={before}");
        foreach (var (key, value) in p.Tags ?? NewJob.NoTags) query.Add($"tag={Uri.EscapeDataString($"{key}={value}")}");
        if (p.Search is not null) query.Add($"search={Uri.EscapeDataString(p.Search)}");
        if (p.ConcurrencyKey is not null) query.Add($"concurrency_key={Uri.EscapeDataString(p.ConcurrencyKey)}");
        var page = await SendAsync(HttpMethod.Get, $"api/v1/jobs?{string.Join('&', query)}", null, ApiJson.Default.JobPage, ct).ConfigureAwait(false);
        return page.Jobs.Select(j => j.ToRecord()).ToArray();
    }

    /// <inheritdoc/>
    public async Task<JobBulkResult> JobBulkAsync(JobBulkParams p, CancellationToken ct)
    {
        var body = JsonContent.Create(new JobBulkBody
        {
            State = p.Filter.State?.ToText(), Queue = p.Filter.Queue, Type = p.Filter.Type, Tags = p.Filter.Tags, ConcurrencyKey = p.Filter.ConcurrencyKey,
            DryRun = p.DryRun, Max = p.Max,
            Cursor = p.Cursor?.ToString(),
        }, ApiJson.Default.JobBulkBody);
        var view = await SendAsync(HttpMethod.Post, $"api/v1/jobs/bulk/{p.Action.ToString().ToLowerInvariant()}", body, ApiJson.Default.JobBulkView, ct).ConfigureAwait(false);
        return new JobBulkResult(p.Action, view.DryRun, view.Matched, view.Touched, view.Remaining, view.Cursor is { } c ? Guid.Parse(c) : null);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<AuditEntry>> AuditListAsync(AuditListParams p, CancellationToken ct)
    {
        var query = new List<string> { $"limit={p.Limit}" };
        if (p.Action is not null) query.Add($"action={Uri.EscapeDataString(p.Action)}");
        if (p.Actor is not null) query.Add($"actor={Uri.EscapeDataString(p.Actor)}");
        if (p.Before is { } before) query.Add($"cursor={before}");
        var page = await SendAsync(HttpMethod.Get, $"api/v1/audit?{string.Join('&', query)}", null, ApiJson.Default.AuditPage, ct).ConfigureAwait(false);
        return page.Entries.Select(e => new AuditEntry(Guid.Parse(e.Id), e.At, e.Actor, e.Action, e.Target, e.Count, e.Detail)).ToArray();
    }

    /// <inheritdoc/>
    public Task<JobCancelResult> JobCancelAsync(Guid id, CancellationToken ct) => JobCancelAsync(id, now: false, ct);

    /// <inheritdoc/>
    public async Task<JobCancelResult> JobCancelAsync(Guid id, bool now, CancellationToken ct)
    {
        var view = await SendAsync(HttpMethod.Post, now ? $"api/v1/jobs/{id}/cancel?now=true" : $"api/v1/jobs/{id}/cancel", null, ApiJson.Default.CancelView, ct).ConfigureAwait(false);
        return new JobCancelResult(id, view.Outcome == "cancelled" ? JobCancelOutcome.Cancelled : JobCancelOutcome.Requested);
    }

    /// <inheritdoc/>
    public Task JobRetryAsync(Guid id, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"api/v1/jobs/{id}/retry", null, ApiJson.Default.JobView, ct);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct)
    {
        var lines = await SendAsync(HttpMethod.Get, $"api/v1/jobs/{id}/logs", null, ApiJson.Default.LogLineViewArray, ct).ConfigureAwait(false);
        return lines.Select(l => new JobAttemptLogLine(l.Attempt, new JobLogLine(l.N, l.At, l.Level, l.Message))).ToArray();
    }

    /// <inheritdoc/>
    public async Task<WorkflowSubmitView> WorkflowCreateAsync(NewWorkflow workflow, string document, bool allowUnknownTypes, IReadOnlyList<string> knownTypes,
        CancellationToken ct)
    {
        using var body = new StringContent(document, System.Text.Encoding.UTF8, "application/json");
        return await SendAsync(HttpMethod.Post, $"api/v1/workflows{(allowUnknownTypes ? "?allow_unknown_type=true" : "")}", body, ApiJson.Default.WorkflowSubmitView, ct).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct)
    {
        try
        {
            return (await SendAsync(HttpMethod.Get, $"api/v1/workflows/{id}", null, ApiJson.Default.WorkflowView, ct).ConfigureAwait(false)).ToRecord();
        }
        catch (WorkflowNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct)
    {
        var query = new List<string> { $"limit={p.Limit}" };
        if (p.State is { } state) query.Add($"state={state.ToText()}");
        if (p.Before is { } before) query.Add($"cursor={before}");
        var page = await SendAsync(HttpMethod.Get, $"api/v1/workflows?{string.Join('&', query)}", null, ApiJson.Default.WorkflowPage, ct).ConfigureAwait(false);
        return page.Workflows.Select(w => w.ToSummary()).ToArray();
    }

    /// <inheritdoc/>
    public async Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct)
    {
        var view = await SendAsync(HttpMethod.Post, $"api/v1/workflows/{id}/cancel", null, ApiJson.Default.WorkflowCancelView, ct).ConfigureAwait(false);
        return new WorkflowCancelResult(id, view.Cancelled, view.Requested);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<QueueView>> QueueListAsync(CancellationToken ct) =>
        await SendAsync(HttpMethod.Get, "api/v1/queues", null, ApiJson.Default.QueueViewArray, ct).ConfigureAwait(false);

    /// <inheritdoc/>
    public Task QueuePauseAsync(string queue, CancellationToken ct) => SendAsync<object>(HttpMethod.Post, $"api/v1/queues/{Uri.EscapeDataString(queue)}/pause", null, null, ct);
    /// <inheritdoc/>
    public Task QueueResumeAsync(string queue, CancellationToken ct) => SendAsync<object>(HttpMethod.Post, $"api/v1/queues/{Uri.EscapeDataString(queue)}/resume", null, null, ct);

    /// <inheritdoc/>
    public Task QueueLimitsSetAsync(string queue, Gantry.Flow.QueueLimits limits, CancellationToken ct)
    {
        var body = new ByteArrayContent(Gantry.Flow.QueueLimitsDocument.Write(limits));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return SendAsync<object>(HttpMethod.Put, $"api/v1/queues/{Uri.EscapeDataString(queue)}/limits", body, null, ct);
    }

    /// <inheritdoc/>
    public Task QueueLimitsClearAsync(string queue, CancellationToken ct) =>
        SendAsync<object>(HttpMethod.Delete, $"api/v1/queues/{Uri.EscapeDataString(queue)}/limits", null, null, ct);

    /// <inheritdoc/>
    public Task<QueueKeysView> QueueKeysListAsync(Gantry.Flow.QueueKeysQuery query, CancellationToken ct)
    {
        query = query.Validated();
        var path = $"api/v1/queues/{Uri.EscapeDataString(query.Queue)}/keys?limit={query.Limit}"
            + (query.After is { } after ? $"&after={Uri.EscapeDataString(after)}" : "") + (query.AtLimitOnly ? "&at_limit=true" : "");
        return SendAsync(HttpMethod.Get, path, null, ApiJson.Default.QueueKeysView, ct);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<WorkerView>> WorkerListAsync(bool all, CancellationToken ct) =>
        await SendAsync(HttpMethod.Get, all ? "api/v1/workers?all=true" : "api/v1/workers", null, ApiJson.Default.WorkerViewArray, ct).ConfigureAwait(false);

    /// <inheritdoc/>
    public Task WorkerCommandSendAsync(string workerId, WorkerCommandKind kind, CancellationToken ct) =>
        SendAsync<object>(HttpMethod.Post, $"api/v1/workers/{Uri.EscapeDataString(workerId)}/{kind.ToString().ToLowerInvariant()}", null, null, ct);

    /// <inheritdoc/>
    public async Task<ScheduleUpsertOutcome> ScheduleSaveAsync(ScheduleDefinition definition, bool allowUnknownType, IReadOnlyList<string> knownTypes, CancellationToken ct)
    {
        definition.Validate(JobLimits.Default);
        using var body = new ByteArrayContent(ScheduleDocument.Write(definition));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var saved = await SendAsync(HttpMethod.Post, $"api/v1/schedules{(allowUnknownType ? "?allow_unknown_type=true" : "")}", body, ApiJson.Default.ScheduleSaveView, ct).ConfigureAwait(false);
        return Enum.Parse<ScheduleUpsertOutcome>(saved.Outcome, ignoreCase: true);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ScheduleView>> ScheduleListAsync(CancellationToken ct) =>
        await SendAsync(HttpMethod.Get, "api/v1/schedules", null, ApiJson.Default.ScheduleViewArray, ct).ConfigureAwait(false);

    /// <inheritdoc/>
    public Task<ScheduleView> ScheduleGetAsync(string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Get, $"api/v1/schedules/{Uri.EscapeDataString(name)}", null, ApiJson.Default.ScheduleView, ct);

    /// <inheritdoc/>
    public Task ScheduleDeleteAsync(string name, CancellationToken ct) =>
        SendAsync<object>(HttpMethod.Delete, $"api/v1/schedules/{Uri.EscapeDataString(name)}", null, null, ct);

    /// <inheritdoc/>
    public Task SchedulePauseAsync(string name, bool paused, CancellationToken ct) =>
        SendAsync<object>(HttpMethod.Post, $"api/v1/schedules/{Uri.EscapeDataString(name)}/{(paused ? "pause" : "resume")}", null, null, ct);

    /// <inheritdoc/>
    public Task<ScheduleTriggerView> ScheduleTriggerAsync(string name, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"api/v1/schedules/{Uri.EscapeDataString(name)}/trigger", null, ApiJson.Default.ScheduleTriggerView, ct);

    /// <inheritdoc/>
    public Task QueueRetentionSetAsync(QueueRetention retention, CancellationToken ct)
    {
        var body = JsonContent.Create(new QueueRetentionBody(retention.Succeeded?.TotalSeconds, retention.Dead?.TotalSeconds, retention.Cancelled?.TotalSeconds),
            ApiJson.Default.QueueRetentionBody);
        return SendAsync(HttpMethod.Put, $"api/v1/queues/{Uri.EscapeDataString(retention.Queue)}/retention", body, ApiJson.Default.QueueRetentionView, ct);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<QueueRetentionView>> QueueRetentionListAsync(CancellationToken ct) =>
        await SendAsync(HttpMethod.Get, "api/v1/queues/retention", null, ApiJson.Default.QueueRetentionViewArray, ct).ConfigureAwait(false);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? body, JsonTypeInfo<T>? type, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body };
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new StoreUnavailableException($"cannot reach the Gantry server at {_server}: {ex.Message}", ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw new StoreUnavailableException($"the Gantry server at {_server} did not answer within {_http.Timeout.TotalSeconds:N0} s", ex);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, path, ct).ConfigureAwait(false);
            if (type is null) return default!;
            try
            {
                return await response.Content.ReadFromJsonAsync(type, ct).ConfigureAwait(false)
                    ?? throw new StoreUnavailableException($"the Gantry server at {_server} sent an empty answer to {path}");
            }
            catch (JsonException ex)
            {
                throw new StoreUnavailableException($"the server at {_server} did not answer {path} as a Gantry server would ({ex.Message})", ex);
            }
        }
    }

    /// <summary>The server's problem details as the error the store would have raised.</summary>
    private async Task<Exception> ErrorAsync(HttpResponseMessage response, string path, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        Problem? problem = null;
        try { problem = JsonSerializer.Deserialize(text, ApiJson.Default.Problem); }
        catch (JsonException) { }
        var detail = problem?.Detail ?? problem?.Title ?? (text.Length is > 0 and < 300 ? text : response.ReasonPhrase ?? "");
        var status = (int)response.StatusCode;
        return response.StatusCode switch
        {
            HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge => new InvalidInputException("", detail),
            HttpStatusCode.NotFound when problem?.Title == "No such job" => new JobNotFoundException(path.Split('/')[3]),
            HttpStatusCode.NotFound when problem?.Title == "No such workflow" => new WorkflowNotFoundException(path.Split('/')[3]),
            HttpStatusCode.NotFound when problem?.Title == "No such schedule" => new ScheduleNotFoundException(Uri.UnescapeDataString(path.Split('/')[3])),
            HttpStatusCode.Unauthorized => new GantryException($"the Gantry server at {_server} wants a token (--token or GANTRY_TOKEN): {detail}"),
            HttpStatusCode.Forbidden => new GantryException($"the Gantry server at {_server} refused the token: {detail}"),
            HttpStatusCode.ServiceUnavailable => new StoreUnavailableException(detail),
            HttpStatusCode.NotFound when problem is null => new GantryException($"{_server} answered 404 to {path}: is it a Gantry server?"),
            _ when status >= 500 => new StoreUnavailableException($"the Gantry server at {_server} answered {status} to {path}: {detail}"),
            _ => new GantryException(detail),
        };
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>An RFC 9457 problem as the server writes it.</summary>
internal sealed record Problem(string? Title, string? Detail, int? Status, string? Field);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, MaxDepth = Gantry.Protocol.JobLimits.MaxMessageDepth)]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobPage))]
[JsonSerializable(typeof(SubmitView[]))]
[JsonSerializable(typeof(CancelView))]
[JsonSerializable(typeof(LogLineView[]))]
[JsonSerializable(typeof(QueueView[]))]
[JsonSerializable(typeof(QueueKeysView))]
[JsonSerializable(typeof(WorkerView[]))]
[JsonSerializable(typeof(Problem))]
[JsonSerializable(typeof(WorkflowSubmitView))]
[JsonSerializable(typeof(WorkflowView))]
[JsonSerializable(typeof(WorkflowPage))]
[JsonSerializable(typeof(WorkflowCancelView))]
[JsonSerializable(typeof(ScheduleView))]
[JsonSerializable(typeof(ScheduleView[]))]
[JsonSerializable(typeof(ScheduleSaveView))]
[JsonSerializable(typeof(ScheduleTriggerView))]
[JsonSerializable(typeof(QueueRetentionView))]
[JsonSerializable(typeof(QueueRetentionView[]))]
[JsonSerializable(typeof(QueueRetentionBody))]
[JsonSerializable(typeof(JobBulkBody))]
[JsonSerializable(typeof(JobBulkView))]
[JsonSerializable(typeof(AuditPage))]
internal sealed partial class ApiJson : JsonSerializerContext;
