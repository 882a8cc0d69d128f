using Gantry.Storage;

namespace Gantry.Server.Alerts;

/// <summary>One webhook: where alerts go, the secret their signature is made with, and the events it wants.</summary>
/// <param name="Url">Where each alert is posted.</param>
/// <param name="Secret">The secret its signature is made with (<see cref="WebhookSignature"/>).</param>
/// <param name="Events">The events it is sent, at least one: <c>job.dead</c>, <c>node.worker_failed</c>, <c>queue.stalled</c>, <c>worker.died</c>.</param>
public sealed record AlertWebhook(Uri Url, string Secret, IReadOnlyList<string> Events);

/// <summary>Alert webhooks and the thresholds of their events (gantry.json <c>alerts</c>), with their defaults.</summary>
public sealed record AlertOptions
{
    /// <summary>The default of <see cref="QueueStalledAfter"/>: 10 minutes.</summary>
    public static readonly TimeSpan QueueStalledAfterDefault = TimeSpan.FromMinutes(10);
    /// <summary>The default of <see cref="ScanInterval"/>: 5 seconds.</summary>
    public static readonly TimeSpan ScanIntervalDefault = TimeSpan.FromSeconds(5);
    /// <summary>The default of <see cref="DeliveryInterval"/>: 1 second.</summary>
    public static readonly TimeSpan DeliveryIntervalDefault = TimeSpan.FromSeconds(1);
    /// <summary>The default of <see cref="RequestTimeout"/>: 10 seconds.</summary>
    public static readonly TimeSpan RequestTimeoutDefault = TimeSpan.FromSeconds(10);
    /// <summary>The default of <see cref="MaxRetryDelay"/>: 10 minutes.</summary>
    public static readonly TimeSpan MaxRetryDelayDefault = TimeSpan.FromMinutes(10);
    /// <summary>The default of <see cref="GiveUpAfter"/>: 1 day.</summary>
    public static readonly TimeSpan GiveUpAfterDefault = TimeSpan.FromDays(1);
    /// <summary>The default of <see cref="Keep"/>: 1 day.</summary>
    public static readonly TimeSpan KeepDefault = TimeSpan.FromDays(1);

    /// <summary>The webhooks alerts are posted to; none turns alerts off.</summary>
    public IReadOnlyList<AlertWebhook> Webhooks { get; init; } = [];

    /// <summary>A queue whose oldest queued job has waited this long is stalled. Defaults to 10 minutes.</summary>
    public TimeSpan QueueStalledAfter { get; init; } = QueueStalledAfterDefault;

    /// <summary>How often the store is looked at for new events. Defaults to 5 seconds.</summary>
    public TimeSpan ScanInterval { get; init; } = ScanIntervalDefault;

    /// <summary>How often due deliveries are tried. Defaults to 1 second.</summary>
    public TimeSpan DeliveryInterval { get; init; } = DeliveryIntervalDefault;

    /// <summary>How long a receiver may take to answer. Defaults to 10 seconds.</summary>
    public TimeSpan RequestTimeout { get; init; } = RequestTimeoutDefault;

    /// <summary>The first retry comes after 1 s, each next one after twice as long, up to this. Defaults to 10 minutes.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = MaxRetryDelayDefault;

    /// <summary>An alert not delivered this long after the event is given up (and logged). Defaults to 1 day.</summary>
    public TimeSpan GiveUpAfter { get; init; } = GiveUpAfterDefault;

    /// <summary>How long delivered and given-up alerts (and so their keys) stay in the outbox. Defaults to 1 day.</summary>
    public TimeSpan Keep { get; init; } = KeepDefault;

    /// <summary>Refuses what could not work; runs when the service is added.</summary>
    public void Validate()
    {
        foreach (var (w, i) in Webhooks.Select((w, i) => (w, i)))
        {
            if (w.Url.Scheme is not ("http" or "https")) throw new InvalidInputException($"alerts.webhooks[{i}].url", "expected an http(s) URL");
            if (w.Secret.Length < 16) throw new InvalidInputException($"alerts.webhooks[{i}].secret", "must be at least 16 characters");
            if (w.Events.Count == 0) throw new InvalidInputException($"alerts.webhooks[{i}].events", $"name at least one event ({string.Join(", ", AlertEvents.All)})");
            foreach (var e in w.Events)
                if (!AlertEvents.All.Contains(e))
                    throw new InvalidInputException($"alerts.webhooks[{i}].events", $"'{e}' is not an event ({string.Join(", ", AlertEvents.All)})");
        }
        // Each span at least a loop's least interval; the waits and timeouts at most what a timer waits, the keep a keep's longest.
        foreach (var (name, value) in new[] { ("queue_stalled_after", QueueStalledAfter), ("scan interval", ScanInterval), ("delivery interval", DeliveryInterval),
                     ("request timeout", RequestTimeout), ("max retry delay", MaxRetryDelay), ("give up after", GiveUpAfter) })
        {
            AtLeastALoop(value, name);
            Gantry.Time.Timers.CheckLongest(value, $"alerts.{name}");
        }
        AtLeastALoop(Keep, "keep");
        QueueRetention.CheckKeep(Keep, "alerts.keep");

        static void AtLeastALoop(TimeSpan value, string name)
        {
            if (value < Maintenance.MaintenanceOptions.LeastInterval)
                throw new InvalidInputException($"alerts.{name}", $"must be at least {Maintenance.MaintenanceOptions.LeastInterval.TotalMilliseconds:0}ms");
        }
    }
}
