namespace Gantry.Storage;

/// <summary>The events an alert webhook can subscribe to.</summary>
public static class AlertEvents
{
    /// <summary>A job went dead (its attempts used up, or it failed for good).</summary>
    public const string JobDead = "job.dead";
    /// <summary>A node gave up on one of its worker processes (restarted too often).</summary>
    public const string NodeWorkerFailed = "node.worker_failed";
    /// <summary>A queue's oldest queued job has waited longer than the configured threshold.</summary>
    public const string QueueStalled = "queue.stalled";
    /// <summary>The dead-worker detector declared a worker dead (silent past the timeout).</summary>
    public const string WorkerDied = "worker.died";

    /// <summary>Every event, as a webhook's <c>events</c> may name it.</summary>
    public static readonly IReadOnlyList<string> All = [JobDead, NodeWorkerFailed, QueueStalled, WorkerDied];
}

/// <summary>
/// One alert for one webhook, written to the store's outbox before any attempt to deliver it.
/// <paramref name="Key"/> names the occurrence (the webhook and what happened, e.g. the dead job and
/// its attempt): the outbox holds each key once, so seeing the same event again adds nothing.
/// </summary>
public sealed record AlertMessage(Guid Id, string Key, string Webhook, string Event, string Body, DateTimeOffset At);

/// <summary>An alert due for delivery, with the attempts made so far.</summary>
public sealed record AlertDelivery(Guid Id, string Webhook, string Event, string Body, int Attempts, DateTimeOffset CreatedAt);

/// <summary>What became of one delivery attempt: delivered, or retried at <paramref name="RetryAt"/> (null: given up).</summary>
public sealed record AlertAttemptResult(Guid Id, bool Delivered, DateTimeOffset? RetryAt, string? Error);
