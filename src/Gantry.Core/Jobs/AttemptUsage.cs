using System.Globalization;

namespace Gantry.Jobs;

/// <summary>
/// What one attempt of a process handler consumed, and how its program ended: read from the
/// attempt's cgroup (or the kernel's accounting of the process where there is none) once the
/// program has exited. One record on every link: the store, the worker protocol (a report of kind
/// <c>usage</c>), the node's frames, and the job views.
/// </summary>
public sealed record AttemptUsage
{
    /// <summary>User and system CPU time of the whole process tree, in seconds.</summary>
    public double? CpuSeconds { get; init; }

    /// <summary>The most memory the tree held at once, in bytes (what a memory limit counts).</summary>
    public long? PeakMemoryBytes { get; init; }

    /// <summary>One of <see cref="AttemptOutcomes"/>.</summary>
    public required string Outcome { get; init; }

    /// <summary>The program's exit code, when it exited.</summary>
    public int? ExitCode { get; init; }

    /// <summary>The signal that ended it, when one did.</summary>
    public int? Signal { get; init; }

    /// <summary>For <see cref="AttemptOutcomes.LimitHit"/>: which limit (<see cref="AttemptLimits"/>).</summary>
    public string? Limit { get; init; }

    /// <summary>Refuses figures no attempt can have; <paramref name="where"/> names the record in the message.</summary>
    public AttemptUsage Validated(string where)
    {
        if (!AttemptOutcomes.All.Contains(Outcome))
            throw new InvalidInputException($"{where}.outcome", $"'{Outcome}' is not an outcome ({string.Join(", ", AttemptOutcomes.All)})");
        if (Limit is not null && !AttemptLimits.All.Contains(Limit))
            throw new InvalidInputException($"{where}.limit", $"'{Limit}' is not a limit ({string.Join(", ", AttemptLimits.All)})");
        if (Outcome == AttemptOutcomes.LimitHit && Limit is null) throw new InvalidInputException($"{where}.limit", "is required when the outcome is limit_hit");
        if (CpuSeconds is < 0 or double.NaN or double.PositiveInfinity) throw new InvalidInputException($"{where}.cpu_seconds", "must be a number of seconds, 0 or more");
        if (PeakMemoryBytes is < 0) throw new InvalidInputException($"{where}.peak_memory_bytes", "must be 0 or more");
        return this;
    }

    /// <summary>One line: <c>cpu 1.20 s, peak memory 63.9 MiB, limit hit: memory</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>(3);
        if (CpuSeconds is { } cpu) parts.Add(string.Create(CultureInfo.InvariantCulture, $"cpu {cpu:0.00} s"));
        if (PeakMemoryBytes is { } peak) parts.Add(string.Create(CultureInfo.InvariantCulture, $"peak memory {peak / 1048576.0:0.0} MiB"));
        parts.Add(Outcome switch
        {
            AttemptOutcomes.Exited => string.Create(CultureInfo.InvariantCulture, $"exited with code {ExitCode}"),
            AttemptOutcomes.Signaled => string.Create(CultureInfo.InvariantCulture, $"killed by signal {Signal}"),
            AttemptOutcomes.LimitHit => $"limit hit: {Limit}",
            _ => Outcome,
        });
        return string.Join(", ", parts);
    }
}

/// <summary>How an attempt's program ended.</summary>
public static class AttemptOutcomes
{
    /// <summary>It exited by itself with <see cref="AttemptUsage.ExitCode"/>.</summary>
    public const string Exited = "exited";
    /// <summary>A signal ended it (<see cref="AttemptUsage.Signal"/>), not sent for a limit, a timeout or a cancel.</summary>
    public const string Signaled = "signaled";
    /// <summary>It ran into a limit (<see cref="AttemptUsage.Limit"/>).</summary>
    public const string LimitHit = "limit_hit";
    /// <summary>The attempt's timeout fired and the tree was stopped.</summary>
    public const string Timeout = "timeout";
    /// <summary>A cancel or a shutdown stopped it.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Every outcome.</summary>
    public static readonly IReadOnlyList<string> All = [Exited, Signaled, LimitHit, Timeout, Cancelled];
}

/// <summary>The limits an attempt can run into.</summary>
public static class AttemptLimits
{
    /// <summary>The memory limit (<see cref="ResourceLimits.MemoryMb"/>): the tree was killed out of memory.</summary>
    public const string Memory = "memory";
    /// <summary>The CPU limit (<see cref="ResourceLimits.Cpu"/>).</summary>
    public const string Cpu = "cpu";
    /// <summary>The process limit (<see cref="ResourceLimits.Processes"/>): a fork was refused.</summary>
    public const string Pids = "pids";

    /// <summary>Every limit.</summary>
    public static readonly IReadOnlyList<string> All = [Memory, Cpu, Pids];
}

/// <summary>An attempt's usage as stored.</summary>
public sealed record JobAttemptUsage(int Attempt, AttemptUsage Usage);
