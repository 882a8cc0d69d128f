using System.Globalization;
using System.Text.RegularExpressions;

namespace Gantry.Flow;

/// <summary>
/// A rate: at most <see cref="Count"/> starts in any window of length <see cref="Per"/> (1 s, 1 min or 1 h).
/// Written <c>100/s</c>, <c>600/m</c>, <c>1000/h</c>.
/// </summary>
/// <param name="Count">Most starts in one window, at least 1.</param>
/// <param name="Per">The window's length: one second, minute or hour.</param>
public sealed partial record QueueRate(int Count, TimeSpan Per)
{
    [GeneratedRegex(@"^\s*(\d{1,9})\s*/\s*(s|m|h)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Parses <c>N/s</c>, <c>N/m</c> or <c>N/h</c> with N ≥ 1; throws <see cref="InvalidInputException"/> naming <paramref name="where"/>.</summary>
    public static QueueRate Parse(string? text, string where)
    {
        var m = Pattern().Match(text ?? "");
        if (!m.Success || !int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            throw new InvalidInputException(where, $"'{text}' is not a rate (write a count per second, minute or hour: 100/s, 600/m, 1000/h)");
        if (n < 1) throw new InvalidInputException(where, $"must allow at least 1 start, got '{text}'");
        var per = m.Groups[2].Value switch { "s" => TimeSpan.FromSeconds(1), "m" => TimeSpan.FromMinutes(1), _ => TimeSpan.FromHours(1) };
        return new QueueRate(n, per);
    }

    /// <summary>The rate for a count and a window in milliseconds as stored; null when either is missing.</summary>
    public static QueueRate? FromStored(long? count, long? windowMs) =>
        count is { } c && windowMs is { } w ? new QueueRate((int)c, TimeSpan.FromMilliseconds(w)) : null;

    /// <summary>For people and for documents: <c>100/s</c>, <c>600/m</c> or <c>1000/h</c>; <see cref="Parse"/> reads it back.</summary>
    public override string ToString() =>
        $"{Count.ToString(CultureInfo.InvariantCulture)}/{(Per == TimeSpan.FromSeconds(1) ? "s" : Per == TimeSpan.FromMinutes(1) ? "m" : "h")}";
}

/// <summary>
/// The flow limits of one queue, held by the store and applied by every claim, cluster-wide
/// (docs/flow-control.md). Each is optional; a queue with none claims exactly as an unlimited one.
/// </summary>
public sealed record QueueLimits
{
    /// <summary>At most this many of the queue's jobs run at once.</summary>
    public int? Concurrency { get; init; }

    /// <summary>At most this many jobs of one <c>concurrency_key</c> run at once; keys are served in turn.</summary>
    public int? PerKey { get; init; }

    /// <summary>At most this many starts in any window of the rate's length.</summary>
    public QueueRate? Rate { get; init; }

    /// <summary>At most this many starts of one <c>concurrency_key</c> in any window of the rate's length (jobs without a
    /// key are one key together); keys are served in turn.</summary>
    public QueueRate? RatePerKey { get; init; }

    /// <summary>The largest value any limit may have: 1,000,000.</summary>
    public const int MaxLimit = 1_000_000;

    /// <summary>
    /// One claim takes at most half a concurrency limit, or <see cref="WholeClaim"/> jobs if that is more. A worker asks
    /// for its prefetch, which may be the whole limit; taken in one claim, the limit is held by jobs waiting in one
    /// buffer, then by their reports, and the next claim finds no room until the last of them is written. Taken in
    /// halves, one half runs and is reported (its slots freed) while the next claim takes the other. A claim of up
    /// to <see cref="WholeClaim"/> jobs runs and is reported in moments: a limit that small is claimed whole.
    /// </summary>
    public static long ClaimCeiling(long concurrency) => Math.Max(Math.Min(concurrency, WholeClaim), (concurrency + 1) / 2);

    /// <summary>A concurrency limit up to this is claimed whole (<see cref="ClaimCeiling"/>).</summary>
    public const int WholeClaim = 128;

    /// <summary>True when no limit is set: the queue claims as an unlimited one.</summary>
    public bool IsEmpty => Concurrency is null && PerKey is null && Rate is null && RatePerKey is null;

    /// <summary>True when a claim must walk the queue's keys: a per-key concurrency limit or a per-key rate.</summary>
    public bool IsPerKey => PerKey is not null || RatePerKey is not null;

    /// <summary>Checks every limit; throws <see cref="InvalidInputException"/> naming the field.</summary>
    public QueueLimits Validated()
    {
        Check(Concurrency, "concurrency");
        Check(PerKey, "per_key");
        Check(Rate, "rate");
        Check(RatePerKey, "rate_per_key");
        if (IsEmpty) throw new InvalidInputException("limits", "name at least one limit (concurrency, per_key, rate, rate_per_key), or clear them");
        return this;
    }

    private static void Check(QueueRate? rate, string field)
    {
        if (rate is not { } r) return;
        if (r.Count is < 1 or > MaxLimit) throw new InvalidInputException(field, $"must allow 1 to {MaxLimit:N0} starts, got {r.Count}");
        if (r.Per != TimeSpan.FromSeconds(1) && r.Per != TimeSpan.FromMinutes(1) && r.Per != TimeSpan.FromHours(1))
            throw new InvalidInputException(field, "must be per second, minute or hour");
    }

    private static void Check(int? value, string field)
    {
        if (value is { } v && v is < 1 or > MaxLimit)
            throw new InvalidInputException(field, $"must be between 1 and {MaxLimit:N0}, got {v}");
    }

    /// <summary>Reads a limit as stored (null when absent).</summary>
    public static QueueLimits? FromStored(long? concurrency, long? perKey, long? rateCount, long? rateWindowMs, long? keyRateCount, long? keyRateWindowMs)
    {
        var limits = new QueueLimits
        {
            Concurrency = concurrency is { } c ? (int)c : null,
            PerKey = perKey is { } k ? (int)k : null,
            Rate = QueueRate.FromStored(rateCount, rateWindowMs),
            RatePerKey = QueueRate.FromStored(keyRateCount, keyRateWindowMs),
        };
        return limits.IsEmpty ? null : limits;
    }

    /// <summary>For people: <c>concurrency 10, per key 2, rate 100/s, rate per key 5/s</c>.</summary>
    public override string ToString() => string.Join(", ", new[]
    {
        Concurrency is { } c ? $"concurrency {c}" : null,
        PerKey is { } k ? $"per key {k}" : null,
        Rate is { } r ? $"rate {r}" : null,
        RatePerKey is { } kr ? $"rate per key {kr}" : null,
    }.Where(s => s is not null));
}

/// <summary>A queue that holds no job and has no limits: limits are set on queues that exist.</summary>
public sealed class QueueNotFoundException(string queue)
    : GantryException($"unknown queue '{queue}' (no job has been submitted to it)")
{
    /// <summary>The queue asked for, as given.</summary>
    public string Queue { get; } = queue;
}

/// <summary>A queue's limits as a process declares them (gantry.json's <c>limits</c>), set in the store as it starts.</summary>
/// <param name="Queue">The queue's name.</param>
/// <param name="Limits">Its limits, validated.</param>
public sealed record DeclaredQueueLimits(string Queue, QueueLimits Limits);

/// <summary>A queue's limits with what counts against them now.</summary>
/// <param name="Running">The queue's jobs running under its limits (holding a slot).</param>
/// <param name="StartedInWindow">Starts within the rate's window (0 without a rate).</param>
/// <param name="Queue">The queue's name.</param>
/// <param name="Limits">Its limits as set.</param>
public sealed record QueueLimitStatus(string Queue, QueueLimits Limits, long Running, long StartedInWindow)
{
    /// <summary>Under a per-key limit, the concurrency keys (the jobs without a key counting as one) whose running jobs fill
    /// it while more of their jobs wait: the keys the limit holds back now. 0 without a per-key limit.</summary>
    public long KeysAtLimit { get; init; }
}
