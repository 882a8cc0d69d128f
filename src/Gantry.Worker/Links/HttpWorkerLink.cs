using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Serialization.Metadata;
using Gantry.Protocol.Wire;
using Gantry.Storage;

namespace Gantry.Worker.Links;

/// <summary>
/// A worker that holds no database credentials: it speaks the server's worker protocol over HTTP
/// with a token (the "independent mode"). Same runtime, only the link differs. Claims long-poll the
/// server, so an idle worker starts new work as soon as the server sees it.
/// </summary>
public sealed class HttpWorkerLink : IWorkerLink, IDisposable
{
    /// <summary>How long one fetch waits on the server for work.</summary>
    public static readonly TimeSpan FetchWait = TimeSpan.FromSeconds(10);

    private readonly HttpClient _http;
    private readonly Uri _server;

    /// <summary>A link to the server at <paramref name="server"/>, sending <paramref name="token"/> (when given) as a bearer token; <paramref name="handler"/> replaces the HTTP handler (tests, proxies).</summary>
    public HttpWorkerLink(Uri server, string? token, HttpMessageHandler? handler = null)
    {
        _server = server;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: true)
        {
            BaseAddress = server,
            Timeout = FetchWait + TimeSpan.FromSeconds(30),
        };
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    /// <inheritdoc/>
    public string Description => $"server {_server}";

    /// <inheritdoc/>
    public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) =>
        PostAsync("api/v1/worker/register", registration, WireJson.Default.WorkerRegistration, ct);

    /// <inheritdoc/>
    public Task DeregisterAsync(string workerId, CancellationToken ct) =>
        PostAsync("api/v1/worker/deregister", new WireWorkerId(workerId), WireJson.Default.WireWorkerId, ct);

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct)
    {
        var request = new WireFetchRequest(p.WorkerId, p.Queues.Select(q => new WireQueueDemand(q.Queue, q.Limit)).ToArray(),
            p.LeaseDuration.TotalSeconds, p.Capabilities, p.JobTypes, mayWait ? FetchWait.TotalSeconds : 0);
        var response = await SendAsync("api/v1/worker/fetch", request, WireJson.Default.WireFetchRequest, WireJson.Default.WireFetchResponse, ct).ConfigureAwait(false);
        return response.ToClaimed();
    }

    /// <summary>A fetch that may wait waits on the server; the worker waits here only after such a fetch.</summary>
    /// <summary>The claim itself waits on the server (a long poll), so there is nothing to wait for here.</summary>
    public Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) => Task.FromResult(true);

    /// <inheritdoc/>
    public Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct) =>
        // A server takes requests of at most its MaxRequestBytes (the default, WireLimits): larger batches go in parts.
        MessageParts.ReportAsync(reports, WireLimits.MaxRequestBytes - 64 * 1024, JsonBound,
            static r => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(WireReport.From(r), WireJson.Default.WireReport).Length + 1,
            "a server takes in one request", SendReportsAsync, ct);

    // A report's JSON, at most: every character escaped (6 bytes), a checkpoint in base64, field names, doubled to spare.
    private static long JsonBound(JobReport report) => 2 * Ipc.IpcFrames.SizeOf(report, static t => 16 + 6L * (t?.Length ?? 0));

    private async Task<IReadOnlyList<bool>> SendReportsAsync(IReadOnlyList<JobReport> reports, CancellationToken ct)
    {
        // Stale reports come back as flags, as from the store, never as 409.
        var request = new WireReportRequest(reports.Select(WireReport.From).ToArray(), FlagStale: true);
        var response = await SendAsync("api/v1/worker/report", request, WireJson.Default.WireReportRequest, WireJson.Default.WireReportResponse, ct).ConfigureAwait(false);
        return response.Applied.Take(reports.Count).ToArray();
    }

    /// <inheritdoc/>
    public async Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct)
    {
        var request = new WireHeartbeatRequest(p.WorkerId, p.LeaseDuration.TotalSeconds, p.Jobs.Select(j => new WireLease(j.JobId, j.Attempt)).ToArray(), p.Managed,
            p.Claims is { Count: > 0 } claims ? claims : null);
        var response = await SendAsync("api/v1/worker/heartbeat", request, WireJson.Default.WireHeartbeatRequest, WireJson.Default.WireHeartbeatResponse, ct).ConfigureAwait(false);
        return new WorkerHeartbeatResult(Commands(response.Commands), response.LostJobs.Select(l => new JobLease(l.JobId, l.Attempt)).ToArray());
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct)
    {
        var response = await SendAsync("api/v1/worker/commands", new WireWorkerId(workerId), WireJson.Default.WireWorkerId, WireJson.Default.WireCommandsResponse, ct).ConfigureAwait(false);
        return Commands(response.Commands);
    }

    /// <inheritdoc/>
    public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => Task.Delay(timeout, ct);

    private static WorkerCommand[] Commands(IReadOnlyList<WireCommand> commands) =>
        commands.Where(c => Enum.TryParse<WorkerCommandKind>(c.Kind, out _))
            .Select(c => new WorkerCommand(Enum.Parse<WorkerCommandKind>(c.Kind), c.JobId)).ToArray();

    private async Task PostAsync<T>(string path, T body, JsonTypeInfo<T> type, CancellationToken ct)
    {
        using var response = await Send(path, body, type, ct).ConfigureAwait(false);
    }

    private async Task<TResponse> SendAsync<TRequest, TResponse>(string path, TRequest body, JsonTypeInfo<TRequest> type, JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        using var response = await Send(path, body, type, ct).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync(responseType, ct).ConfigureAwait(false)
            ?? throw new StoreUnavailableException($"the Gantry server at {_server} sent an empty answer to {path}");
    }

    private async Task<HttpResponseMessage> Send<T>(string path, T body, JsonTypeInfo<T> type, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.PostAsJsonAsync(path, body, type, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new StoreUnavailableException($"cannot reach the Gantry server at {_server}: {ex.Message}", ex);
        }
        if (response.IsSuccessStatusCode) return response;
        var detail = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        response.Dispose();
        throw response.StatusCode switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new GantryException($"the Gantry server at {_server} refused the worker's token ({(int)response.StatusCode}): {detail}"),
            // A refusal of what the worker sent (its settings at registration): asking again changes nothing.
            HttpStatusCode.BadRequest => new CoordinatorRefusedException($"the Gantry server at {_server} refused {path} (400): {detail}"),
            _ => new StoreUnavailableException($"the Gantry server at {_server} answered {(int)response.StatusCode} to {path}: {detail}"),
        };
    }

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}
