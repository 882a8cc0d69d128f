namespace Gantry.Storage;

/// <summary>
/// One entry of the audit log: who did what to what, when, and how many jobs it touched. Appended by the API's
/// mutating endpoints and by the CLI when it acts on a store directly; kept <see cref="Audit.Retention"/>.
/// </summary>
/// <param name="Actor">The API token's name, <c>loopback</c> for an API open without tokens, <c>cli:&lt;os user&gt;</c> for the CLI.</param>
/// <param name="Action">What was done, e.g. <c>jobs.cancel</c>, <c>jobs.bulk_retry</c>, <c>queues.pause</c>.</param>
/// <param name="Target">What it was done to: a job id, a queue, a worker, or a bulk action's filter.</param>
/// <param name="Count">How many jobs it touched, where that is known.</param>
public sealed record AuditEntry(Guid Id, DateTimeOffset At, string Actor, string Action, string Target, long? Count = null, string? Detail = null);

/// <summary>Which audit entries <see cref="IStoreAuditLog.AuditListAsync"/> returns, newest first.</summary>
public sealed record AuditListParams
{
    /// <summary>Only entries of this action (e.g. <c>jobs.cancel</c>); every action when null.</summary>
    public string? Action { get; init; }
    /// <summary>Only entries by this actor; every actor when null.</summary>
    public string? Actor { get; init; }
    /// <summary>Most entries returned. Defaults to 50.</summary>
    public int Limit { get; init; } = 50;
    /// <summary>Keyset cursor: only entries older than this one.</summary>
    public Guid? Before { get; init; }
}

/// <summary>What the audit log keeps, and who the CLI acts as.</summary>
public static class Audit
{
    /// <summary>How long entries are kept: the cleaner deletes older ones.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(90);

    /// <summary>The actor of the CLI acting on a store directly.</summary>
    public static string CliActor => $"cli:{Environment.UserName}";
}
