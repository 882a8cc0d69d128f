namespace Gantry.Storage.Postgres;

/// <summary>The payloads sent on a store's NOTIFY channel (<c>gantry_&lt;schema&gt;</c>).</summary>
internal static class PostgresNotifications
{
    /// <summary>Jobs became claimable: enqueue, promote, retry, requeue, rescue.</summary>
    public const string Jobs = "jobs";

    /// <summary>A schedule was created, changed, paused, resumed or removed.</summary>
    public const string Schedules = "schedules";

    /// <summary>A worker command was queued (cancel of a running job).</summary>
    public const string Commands = "commands";

    /// <summary>Jobs became scheduled (delayed, or backing off before a retry): the scheduler may need to wake earlier.</summary>
    public const string Schedule = "schedule";

    /// <summary>Jobs ended (succeeded, dead, cancelled): waiters for a job's end look again (<see cref="PostgresEndedNotifier"/>).</summary>
    public const string Ended = "ended";
}
