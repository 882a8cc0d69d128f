namespace Gantry.Worker.Coordination;

/// <summary>How a <see cref="CoordinatorSession"/> keeps in touch, from its owner's options (validated there).</summary>
internal sealed record SessionOptions
{
    /// <summary>The owner's id in the coordinator's registry: the lease owner of what it claims.</summary>
    public required string Id { get; init; }

    /// <summary>How long a claimed attempt stays the owner's without a heartbeat.</summary>
    public required TimeSpan LeaseDuration { get; init; }

    public required TimeSpan HeartbeatInterval { get; init; }

    /// <summary>How often a busy owner looks for commands.</summary>
    public required TimeSpan CommandPollInterval { get; init; }

    /// <summary>
    /// The lease the owner stops unrenewed attempts by (<see cref="LeaseGuard"/>): <see cref="LeaseDuration"/> for a
    /// worker; for a node one heartbeat less, since its workers hear that an attempt was taken back at their next heartbeat.
    /// </summary>
    public required TimeSpan GuardedLease { get; init; }

    /// <summary>Most reports in one write: whole groups are taken while fewer are gathered.</summary>
    public int MaxReportBatch { get; init; } = 1000;

    /// <summary>Whether reports found stale are logged; a node leaves that to its workers, which get the same answer.</summary>
    public bool LogStaleReports { get; init; } = true;
}
