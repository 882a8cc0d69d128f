using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Jobs;
using Gantry.Storage;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>
/// <c>GET /api/v1/jobs/{id}/events</c>: server-sent events, one <c>job</c> event each time the
/// job's state, attempt or progress changes, until it ends. Reads the store, so it follows a job
/// whichever process runs it.
/// </summary>
internal static class JobEvents
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public static async Task StreamAsync(string id, HttpContext http, IJobStore store, CancellationToken ct)
    {
        var jobId = JobIds.Parse(id);
        var job = await store.JobGetAsync(jobId, ct).ConfigureAwait(false) ?? throw new JobNotFoundException(jobId.ToString());
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var hide = ApiAuthorization.HidesPayloads(http);
        (JobState, int, double?, string?)? last = null;
        while (!ct.IsCancellationRequested)
        {
            var now = (job.State, job.Attempt, job.Progress, job.ProgressMessage);
            if (now != last)
            {
                var data = JsonSerializer.Serialize(new JobEvent(job.Id, job.State.ToText(), job.Attempt, job.Progress, job.ProgressMessage,
                    !hide && job.State.IsTerminal() && job.Result is { } r ? JsonDocument.Parse(r).RootElement : null), JobEventJson.Default.JobEvent);
                await http.Response.WriteAsync($"event: job\ndata: {data}\n\n", ct).ConfigureAwait(false);
                await http.Response.Body.FlushAsync(ct).ConfigureAwait(false);
                last = now;
            }
            if (job.State.IsTerminal()) return;
            await Task.Delay(PollInterval, ct).ConfigureAwait(false);
            job = await store.JobGetAsync(jobId, ct).ConfigureAwait(false) ?? throw new JobNotFoundException(jobId.ToString());
        }
    }
}

/// <summary>The data of one <c>job</c> event; <c>result</c> only once the job ended.</summary>
internal sealed record JobEvent(Guid Id, string State, int Attempt, double? Progress, string? Message, JsonElement? Result);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, MaxDepth = Gantry.Protocol.JobLimits.MaxMessageDepth)]
[JsonSerializable(typeof(JobEvent))]
internal sealed partial class JobEventJson : JsonSerializerContext;
