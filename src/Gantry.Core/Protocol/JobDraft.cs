using System.Text;
using System.Text.RegularExpressions;
using Gantry.Jobs;

namespace Gantry.Protocol;

/// <summary>
/// A job as a user described it, before validation: the fields of the v1 job document. Both the
/// document reader and the CLI's flags fill one, so every rule about a field lives in
/// <see cref="Validate"/>.
/// </summary>
public sealed partial record JobDraft
{
    /// <summary><c>type</c>: which handler runs the job. Required.</summary>
    public string? Type { get; init; }
    /// <summary><c>payload</c> as JSON text; <c>{}</c> when null.</summary>
    public string? Payload { get; init; }
    /// <summary><c>queue</c>; the default queue when null.</summary>
    public string? Queue { get; init; }
    /// <summary><c>priority</c>: higher runs first within a queue; 0 when null.</summary>
    public int? Priority { get; init; }
    /// <summary><c>run_at</c>: not started before this instant; at once when null.</summary>
    public DateTimeOffset? RunAt { get; init; }
    /// <summary><c>timeout_seconds</c>: how long one attempt may run; no timeout when null.</summary>
    public double? TimeoutSeconds { get; init; }
    /// <summary><c>max_attempts</c>, from 1 to <see cref="MaxAttemptsLimit"/>; 5 when null.</summary>
    public int? MaxAttempts { get; init; }
    /// <summary><c>backoff_base_seconds</c>: the first retry's delay; 1 second when null.</summary>
    public double? BackoffBaseSeconds { get; init; }
    /// <summary><c>backoff_max_seconds</c>: the longest delay between attempts; 1 hour when null.</summary>
    public double? BackoffMaxSeconds { get; init; }
    /// <summary><c>idempotency_key</c>: at most <see cref="MaxIdempotencyKeyLength"/> characters; none when null.</summary>
    public string? IdempotencyKey { get; init; }
    /// <summary><c>unique_for_seconds</c>: how long the idempotency key holds; as long as the job is kept when null.</summary>
    public double? UniqueForSeconds { get; init; }
    /// <summary><c>unique_while</c>: the states in which the idempotency key holds; every state when null.</summary>
    public IReadOnlyList<string>? UniqueWhile { get; init; }
    /// <summary><c>concurrency_key</c>: groups jobs for a queue's per-key limit; none when null.</summary>
    public string? ConcurrencyKey { get; init; }
    /// <summary><c>tags</c>: free-form key/value labels; none when null.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    /// <summary><c>required_capabilities</c>: what a worker must offer to claim the job; none when null.</summary>
    public IReadOnlyList<string>? RequiredCapabilities { get; init; }
    /// <summary><c>checkpoint_interval_seconds</c>: how often a checkpointing handler is asked for its state; the type's or worker's when null.</summary>
    public double? CheckpointIntervalSeconds { get; init; }
    /// <summary>Process limits of the job's own (<c>limits</c>), tighter than its type's.</summary>
    public ResourceLimits? Limits { get; init; }

    /// <summary>Longest job type and queue name: 200 characters.</summary>
    public const int MaxNameLength = 200;
    /// <summary>Longest idempotency key: 255 characters.</summary>
    public const int MaxIdempotencyKeyLength = 255;
    /// <summary>Most attempts a job may ask for: 1000.</summary>
    public const int MaxAttemptsLimit = 1000;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
    private static partial Regex NamePattern();

    /// <summary>Checks every field and builds the job; <paramref name="where"/> prefixes error messages.</summary>
    public NewJob Validate(JobLimits limits, string where, TimeProvider? time = null)
    {
        string At(string field) => string.IsNullOrEmpty(where) ? field : $"{where}.{field}";

        var type = Type?.Trim();
        if (string.IsNullOrEmpty(type)) throw new InvalidInputException(At("type"), "is required (the job type names its handler)");
        CheckName(type, At("type"));

        var queue = Queue?.Trim() ?? NewJob.DefaultQueue;
        CheckName(queue, At("queue"));

        var payload = Payload ?? "{}";
        var bytes = Encoding.UTF8.GetByteCount(payload);
        if (bytes > limits.MaxPayloadBytes)
            throw new InvalidInputException(At("payload"), $"is {bytes:N0} bytes, over the limit of {limits.MaxPayloadBytes:N0} bytes");

        TimeSpan? timeout = null;
        if (TimeoutSeconds is { } t)
        {
            if (!(t > 0) || t > TimeSpan.MaxValue.TotalSeconds / 2)
                throw new InvalidInputException(At("timeout_seconds"), $"must be a positive number of seconds up to {TimeSpan.MaxValue.TotalSeconds / 2:0}, got {t}");
            timeout = TimeSpan.FromSeconds(t);
        }

        var maxAttempts = MaxAttempts ?? NewJob.MaxAttemptsDefault;
        if (maxAttempts is < 1 or > MaxAttemptsLimit)
            throw new InvalidInputException(At("max_attempts"), $"must be between 1 and {MaxAttemptsLimit}, got {maxAttempts}");

        var backoffBase = BackoffBaseSeconds ?? Backoff.BaseDefault.TotalSeconds;
        var backoffMax = BackoffMaxSeconds ?? Math.Max(backoffBase, Backoff.MaxDefault.TotalSeconds);
        if (!(backoffBase >= 0) || backoffBase > 365 * 86400) throw new InvalidInputException(At("backoff.base_seconds"), $"must be a non-negative number of seconds, got {backoffBase}");
        if (!(backoffMax >= backoffBase) || backoffMax > 365 * 86400) throw new InvalidInputException(At("backoff.max_seconds"), $"must be at least base_seconds ({backoffBase}), got {backoffMax}");

        var key = IdempotencyKey;
        if (key is not null && (key.Length == 0 || key.Length > MaxIdempotencyKeyLength))
            throw new InvalidInputException(At("idempotency_key"), $"must be 1 to {MaxIdempotencyKeyLength} characters");

        TimeSpan? uniqueFor = null;
        if (UniqueForSeconds is { } uf)
        {
            if (key is null) throw new InvalidInputException(At("unique_for"), "needs an idempotency_key (it says how long the key holds)");
            if (!(uf >= 1) || uf > 3650 * 86400) throw new InvalidInputException(At("unique_for"), $"must be between 1 second and 10 years, got {uf}");
            uniqueFor = TimeSpan.FromSeconds(uf);
        }
        JobState[]? uniqueWhile = null;
        if (UniqueWhile is { } states)
        {
            if (key is null) throw new InvalidInputException(At("unique_while"), "needs an idempotency_key (it says in which states the key holds)");
            if (states.Count == 0) throw new InvalidInputException(At("unique_while"), "must name at least one state");
            uniqueWhile = new JobState[states.Count];
            for (var i = 0; i < states.Count; i++)
                if (!JobStates.TryParse(states[i], out uniqueWhile[i]))
                    throw new InvalidInputException(At($"unique_while[{i}]"), $"'{states[i]}' is not a job state ({string.Join(", ", JobStates.All.Select(s => s.ToText()))})");
            uniqueWhile = uniqueWhile.Distinct().Order().ToArray();
        }

        var concurrencyKey = ConcurrencyKey;
        if (concurrencyKey is not null) CheckConcurrencyKey(concurrencyKey, At("concurrency_key"));

        var caps = RequiredCapabilities ?? [];
        for (var i = 0; i < caps.Count; i++)
            if (string.IsNullOrWhiteSpace(caps[i])) throw new InvalidInputException(At($"required_capabilities[{i}]"), "must not be empty");

        TimeSpan? checkpointInterval = null;
        if (CheckpointIntervalSeconds is { } ci)
        {
            if (!(ci >= 1) || ci > 30 * 86400) throw new InvalidInputException(At("checkpoint_interval_seconds"), $"must be between 1 second and 30 days, got {ci}");
            checkpointInterval = TimeSpan.FromSeconds(ci);
        }

        var resourceLimits = Limits is { IsEmpty: false } own ? own : null;
        if (resourceLimits is not null && limits.TypeLimits.TryGetValue(type, out var typeLimits))
            resourceLimits.CheckNotWider(typeLimits, type, At("limits"));

        if (Tags is not null)
            foreach (var k in Tags.Keys)
                if (string.IsNullOrWhiteSpace(k)) throw new InvalidInputException(At("tags"), "tag names must not be empty");

        return new NewJob
        {
            Id = JobIds.New(time),
            Type = type,
            Queue = queue,
            Payload = payload,
            Priority = Priority ?? 0,
            RunAt = RunAt,
            Timeout = timeout,
            MaxAttempts = maxAttempts,
            Backoff = new Backoff(TimeSpan.FromSeconds(backoffBase), TimeSpan.FromSeconds(backoffMax)),
            IdempotencyKey = key,
            UniqueFor = uniqueFor,
            UniqueWhile = uniqueWhile,
            ConcurrencyKey = concurrencyKey,
            Tags = Tags ?? NewJob.NoTags,
            RequiredCapabilities = caps.Select(c => c.Trim()).Distinct(StringComparer.Ordinal).ToArray(),
            CheckpointInterval = checkpointInterval,
            Limits = resourceLimits,
        };
    }

    /// <summary>Checks a concurrency key (a job's, or one a filter names): 1 to <see cref="MaxIdempotencyKeyLength"/> characters,
    /// no NUL; throws <see cref="InvalidInputException"/> naming <paramref name="where"/>.</summary>
    public static void CheckConcurrencyKey(string key, string where)
    {
        if (key.Length == 0 || key.Length > MaxIdempotencyKeyLength) throw new InvalidInputException(where, $"must be 1 to {MaxIdempotencyKeyLength} characters");
        if (TextFields.HasNul(key)) throw new InvalidInputException(where, TextFields.NulProblem);
    }

    /// <summary>The longest delay before a job's start: 100 years (36,500 days).</summary>
    public static readonly TimeSpan LongestDelay = TimeSpan.FromDays(36_500);

    /// <summary>The start <paramref name="delay"/> after <paramref name="now"/>: 0 to <see cref="LongestDelay"/>, else
    /// <see cref="InvalidInputException"/> naming <paramref name="where"/>.</summary>
    public static DateTimeOffset StartAfter(DateTimeOffset now, TimeSpan delay, string where) =>
        delay >= TimeSpan.Zero && delay <= LongestDelay
            ? now + delay
            : throw new InvalidInputException(where, $"must be between 0 and 100 years (36500 days), got {delay.TotalDays:0.###} days");

    /// <summary>Checks a job type or queue name; throws <see cref="InvalidInputException"/> naming <paramref name="where"/>.</summary>
    public static void CheckName(string value, string where)
    {
        if (value.Length > MaxNameLength) throw new InvalidInputException(where, $"is longer than {MaxNameLength} characters");
        if (!NamePattern().IsMatch(value))
            throw new InvalidInputException(where, $"'{value}' is not a valid name (letters, digits and . _ : / - ; starting with a letter or digit)");
    }
}
