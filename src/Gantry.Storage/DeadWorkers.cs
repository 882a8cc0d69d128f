namespace Gantry.Storage;

/// <param name="SilentFor">How long a running worker may go without a heartbeat before it is presumed dead.</param>
public sealed record WorkerMarkDeadParams(TimeSpan SilentFor);

/// <param name="ExpiredLeases">Running jobs it held, whose leases were expired so they can be rescued.</param>
public sealed record DeadWorker(string Id, DateTimeOffset LastSeenAt, int ExpiredLeases);

/// <summary>One running attempt and the worker that holds it.</summary>
public sealed record WorkerRunningJob(string WorkerId, Guid JobId, int Attempt, string Type, string Queue, DateTimeOffset? StartedAt);
