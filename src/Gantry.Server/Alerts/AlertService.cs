using System.Text;
using System.Text.Json;
using Gantry.Jobs;
using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Alerts;

/// <summary>
/// Alert webhooks, run by the leader. Each scan looks at the store for the events the webhooks want
/// (jobs gone dead, workers declared dead, a node's failed worker processes, queues whose oldest job
/// waits past the threshold) and writes one alert per event and webhook to the store's outbox, keyed
/// by the occurrence, so an event seen again (the next scan, another leader) adds nothing. Delivery
/// reads the outbox: a POST signed with the webhook's secret (<see cref="WebhookSignature"/>); a 2xx
/// settles it, anything else is retried after 1 s, 2 s, 4 s … (up to <see cref="AlertOptions.MaxRetryDelay"/>)
/// until <see cref="AlertOptions.GiveUpAfter"/>. The outbox is in the store, so what a stopped leader
/// had not delivered the next one does: at least once, with <c>Gantry-Delivery</c> to tell repeats apart.
/// </summary>
internal sealed partial class AlertService(IJobStore store, AlertOptions options, ILogger<AlertService> logger, TimeProvider time)
    : ResilientService(logger, time)
{
    /// <summary>How far back the first scan looks for events not alerted yet (dead workers are listed for an hour).</summary>
    public static readonly TimeSpan FirstLookback = TimeSpan.FromHours(1);

    private readonly HttpClient _http = new() { Timeout = options.RequestTimeout };
    private DateTimeOffset? _since;

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        var nextScan = Time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            if (Time.GetUtcNow() >= nextScan)
            {
                await ScanOnceAsync(stoppingToken).ConfigureAwait(false);
                nextScan = Time.GetUtcNow() + options.ScanInterval;
            }
            await DeliverOnceAsync(stoppingToken).ConfigureAwait(false);
            await Task.Delay(options.DeliveryInterval, Time, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>Writes an alert for each event since the last scan to the outbox; returns how many were new.</summary>
    public async Task<int> ScanOnceAsync(CancellationToken ct)
    {
        if (options.Webhooks.Count == 0) return 0;
        var now = Time.GetUtcNow();
        var since = _since ?? now - FirstLookback;
        var events = new List<(string Event, string Key, Action<Utf8JsonWriter> Data)>();
        var wanted = options.Webhooks.SelectMany(w => w.Events).ToHashSet(StringComparer.Ordinal);

        if (wanted.Contains(AlertEvents.JobDead))
        {
            var dead = await store.JobListAsync(new JobListParams { State = JobState.Dead, Limit = 200 }, ct).ConfigureAwait(false);
            foreach (var listed in dead.Where(j => j.FinishedAt >= since).Take(100))
            {
                var job = await store.JobGetAsync(listed.Id, ct).ConfigureAwait(false) ?? listed;
                var error = job.Errors.Count > 0 ? job.Errors[^1].Error : null;
                events.Add((AlertEvents.JobDead, $"{job.Id}:{job.Attempt}", w =>
                {
                    w.WriteString("job_id", job.Id);
                    w.WriteString("type", job.Type);
                    w.WriteString("queue", job.Queue);
                    w.WriteNumber("attempt", job.Attempt);
                    w.WriteNumber("max_attempts", job.MaxAttempts);
                    if (job.FinishedAt is { } at) w.WriteString("finished_at", at);
                    if (error is not null) { w.WriteString("error_kind", error.Kind); w.WriteString("error", error.Message); }
                }));
            }
        }
        if (wanted.Contains(AlertEvents.WorkerDied) || wanted.Contains(AlertEvents.NodeWorkerFailed))
        {
            foreach (var worker in await store.WorkerListAsync(ct).ConfigureAwait(false))
            {
                if (worker.State == WorkerStates.Dead && worker.LastSeenAt >= now - FirstLookback)
                    events.Add((AlertEvents.WorkerDied, worker.Id, w =>
                    {
                        w.WriteString("worker_id", worker.Id);
                        w.WriteString("host", worker.Registration.Host);
                        w.WriteString("last_seen_at", worker.LastSeenAt);
                    }));
                foreach (var managed in worker.Managed.Where(m => m.State == ManagedWorkerStates.Failed))
                    events.Add((AlertEvents.NodeWorkerFailed, $"{worker.Id}:{managed.LocalId}:{managed.Restarts}", w =>
                    {
                        w.WriteString("node_id", worker.Id);
                        w.WriteString("host", worker.Registration.Host);
                        w.WriteNumber("local_id", managed.LocalId);
                        w.WriteNumber("restarts", managed.Restarts);
                        if (managed.LastError is { } last) w.WriteString("last_error", last);
                    }));
            }
        }
        if (wanted.Contains(AlertEvents.QueueStalled))
        {
            foreach (var queue in await store.QueueStatsAsync(ct).ConfigureAwait(false))
                if (!queue.Paused && queue.OldestQueuedAt is { } oldest && now - oldest >= options.QueueStalledAfter)
                    events.Add((AlertEvents.QueueStalled, $"{queue.Queue}:{oldest.ToUnixTimeMilliseconds()}", w =>
                    {
                        w.WriteString("queue", queue.Queue);
                        w.WriteString("oldest_queued_at", oldest);
                        w.WriteNumber("waited_seconds", Math.Round((now - oldest).TotalSeconds));
                        w.WriteNumber("queued", queue[JobState.Queued]);
                        w.WriteNumber("running", queue[JobState.Running]);
                    }));
        }

        var alerts = new List<AlertMessage>();
        foreach (var (name, key, data) in events)
            foreach (var webhook in options.Webhooks.Where(w => w.Events.Contains(name)))
            {
                var id = JobIds.New(Time);
                alerts.Add(new AlertMessage(id, $"{name}:{key} {webhook.Url}", webhook.Url.ToString(), name, Body(id, name, now, data), now));
            }
        var added = await store.AlertEnqueueAsync(alerts, ct).ConfigureAwait(false);
        if (added > 0) Log.Queued(Logger, added);
        // The next scan overlaps this one a little: an event written as this one read is not missed, and its key makes it once.
        _since = now - options.ScanInterval;
        return added;
    }

    /// <summary>Tries every due alert once; returns how many were delivered.</summary>
    public async Task<int> DeliverOnceAsync(CancellationToken ct)
    {
        var due = await store.AlertDueAsync(50, ct).ConfigureAwait(false);
        if (due.Count == 0) return 0;
        var results = new List<AlertAttemptResult>(due.Count);
        foreach (var alert in due)
        {
            var webhook = options.Webhooks.FirstOrDefault(w => w.Url.ToString() == alert.Webhook);
            if (webhook is null)
            {
                results.Add(new AlertAttemptResult(alert.Id, false, null, "the webhook is no longer configured"));
                continue;
            }
            var error = await PostAsync(webhook, alert, ct).ConfigureAwait(false);
            if (error is null)
            {
                results.Add(new AlertAttemptResult(alert.Id, true, null, null));
                continue;
            }
            var now = Time.GetUtcNow();
            var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, Math.Min(alert.Attempts, 30)), options.MaxRetryDelay.TotalSeconds));
            var giveUp = now + delay - alert.CreatedAt > options.GiveUpAfter;
            if (alert.Attempts == 0 || giveUp) Log.NotDelivered(Logger, alert.Event, alert.Id, webhook.Url, error, giveUp ? "giving up" : $"retrying in {delay.TotalSeconds:0}s and after");
            results.Add(new AlertAttemptResult(alert.Id, false, giveUp ? null : now + delay, error));
        }
        await store.AlertSettleAsync(results, options.Keep, ct).ConfigureAwait(false);
        return results.Count(r => r.Delivered);
    }

    /// <summary>Posts one alert; null when the receiver took it (2xx), else why not.</summary>
    private async Task<string?> PostAsync(AlertWebhook webhook, AlertDelivery alert, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url)
        {
            Content = new StringContent(alert.Body, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.Sign(webhook.Secret, alert.Body, Time.GetUtcNow()));
        request.Headers.TryAddWithoutValidation(WebhookSignature.EventHeader, alert.Event);
        request.Headers.TryAddWithoutValidation(WebhookSignature.DeliveryHeader, alert.Id.ToString());
        try
        {
            using var response = await _http.SendAsync(request, ct).ConfigureAwait(false);
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}";
        }
        catch (HttpRequestException ex)
        {
            return ex.Message;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"no answer within {options.RequestTimeout.TotalSeconds:0.#}s";
        }
    }

    private static string Body(Guid id, string name, DateTimeOffset at, Action<Utf8JsonWriter> data)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("event", name);
            w.WriteString("at", at);
            w.WriteStartObject("data");
            data(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Queued {Count} alert(s) for webhooks")]
        public static partial void Queued(ILogger logger, int count);

        [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Alert {Event} {AlertId} not delivered to {Url}: {Error}; {Next}")]
        public static partial void NotDelivered(ILogger logger, string @event, Guid alertId, Uri url, string error, string next);
    }
}
