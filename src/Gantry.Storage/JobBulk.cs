using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>What a bulk action does to each job it takes.</summary>
public enum JobBulkAction
{
    /// <summary>Retry each dead or cancelled job (as <see cref="IStoreControl.JobRetryAsync"/>).</summary>
    Retry,
    /// <summary>Cancel each unfinished job (as <see cref="IStoreControl.JobCancelAsync(Guid, CancellationToken)"/>).</summary>
    Cancel,
}

/// <summary>Which jobs a bulk action takes: every filter optional, at least one of state, queue, type and tags required.</summary>
public sealed record JobFilter
{
    /// <summary>Only jobs in this state; any state the action starts from when null.</summary>
    public JobState? State { get; init; }
    /// <summary>Only jobs in this queue; any queue when null.</summary>
    public string? Queue { get; init; }
    /// <summary>Only jobs of this type; any type when null.</summary>
    public string? Type { get; init; }
    /// <summary>Only jobs carrying every one of these tags (key and value equal); no tag filter when null or empty.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    /// <summary>Only jobs with this concurrency key; any when null.</summary>
    public string? ConcurrencyKey { get; init; }

    /// <summary>True when no filter is set: a bulk action refuses it (it would take every job).</summary>
    public bool IsEmpty => State is null && Queue is null && Type is null && (Tags is null || Tags.Count == 0) && ConcurrencyKey is null;

    /// <summary>"queue=emails type=mail state=dead", for people and the audit log.</summary>
    public string Describe() => string.Join(' ', new[]
    {
        Queue is null ? null : $"queue={Queue}",
        Type is null ? null : $"type={Type}",
        State is null ? null : $"state={State.Value.ToText()}",
        ConcurrencyKey is null ? null : $"concurrency_key={ConcurrencyKey}",
    }.Concat(Tags?.Select(t => $"tag:{t.Key}={t.Value}") ?? []).Where(x => x is not null));
}

/// <summary>The jobs a bulk action would take now: the filter, in one of <paramref name="States"/>; with
/// <paramref name="NotCancelRequested"/>, none whose cancellation is already under way (a running job asked to stop);
/// with <paramref name="After"/>, only the jobs after that one in the store's oldest-first order.</summary>
public sealed record JobMatch(JobFilter Filter, IReadOnlyList<JobState> States, bool NotCancelRequested, Guid? After = null);

/// <param name="Max">At most this many jobs are acted on, oldest first (1 to <see cref="JobBulk.MaxLimit"/>).</param>
/// <param name="Cursor">The <see cref="JobBulkResult.Cursor"/> of the previous call of the same action: this call takes
/// only the jobs after it, so a job is acted on at most once however often it comes back into the filter (a retried job
/// that dies again).</param>
public sealed record JobBulkParams(JobBulkAction Action, JobFilter Filter, bool DryRun = false, int Max = JobBulk.DefaultMax, Guid? Cursor = null);

/// <param name="Matched">Jobs the filter matched before the action (after the cursor).</param>
/// <param name="Touched">Jobs the action changed.</param>
/// <param name="Remaining">Jobs after <paramref name="Cursor"/> that still match: call again, with the cursor, while
/// there are some.</param>
/// <param name="Cursor">The last job this call looked at (the given cursor when it looked at none).</param>
public sealed record JobBulkResult(JobBulkAction Action, bool DryRun, long Matched, long Touched, long Remaining, Guid? Cursor = null);

/// <summary>
/// Bulk retry and cancel by filter. Each job goes through the store's own single-job transition
/// (<see cref="IStoreControl.JobRetryAsync"/>, <see cref="IStoreControl.JobCancelAsync(Guid, CancellationToken)"/>), so the rule
/// for what may be retried or cancelled, and every effect of it (a workflow's downstream, a running job's worker told),
/// is the one of the single-job action. The states a bulk action may pick are those its transition starts from.
/// </summary>
public static class JobBulk
{
    /// <summary>The default <see cref="JobBulkParams.Max"/>: 1000 jobs per call.</summary>
    public const int DefaultMax = 1000;
    /// <summary>The largest <see cref="JobBulkParams.Max"/>: 10,000 jobs per call.</summary>
    public const int MaxLimit = 10_000;

    /// <summary>The single-job transition <paramref name="action"/> applies to each job.</summary>
    public static JobTransition Transition(JobBulkAction action) => action == JobBulkAction.Retry ? JobTransition.Retry : JobTransition.Cancel;

    /// <summary>The filter with its state checked against the action (field names as on the API: state, max).</summary>
    public static JobBulkParams Validated(JobBulkParams p)
    {
        if (p.Filter.IsEmpty) throw new InvalidInputException("state", "give at least one of state, queue, type, tags and concurrency_key");
        if (p.Filter.ConcurrencyKey is { } key) Gantry.Protocol.JobDraft.CheckConcurrencyKey(key, "concurrency_key");
        var from = JobStateMachine.From(Transition(p.Action));
        if (p.Filter.State is { } s && !from.Contains(s))
            throw new InvalidInputException("state", $"{p.Action.ToString().ToLowerInvariant()} acts only on {string.Join(", ", from.Select(x => x.ToText()))} jobs, not {s.ToText()}");
        if (p.Max is < 1 or > MaxLimit) throw new InvalidInputException("max", $"must be between 1 and {MaxLimit}, got {p.Max}");
        return p;
    }

    /// <summary>Runs a bulk action on <paramref name="store"/>.</summary>
    public static async Task<JobBulkResult> RunAsync(IJobStore store, JobBulkParams p, CancellationToken ct)
    {
        p = Validated(p);
        var match = new JobMatch(p.Filter, p.Filter.State is { } one ? [one] : JobStateMachine.From(Transition(p.Action)),
            NotCancelRequested: p.Action == JobBulkAction.Cancel, After: p.Cursor);
        var matched = await store.JobCountAsync(match, ct).ConfigureAwait(false);
        if (p.DryRun || matched == 0) return new JobBulkResult(p.Action, p.DryRun, matched, 0, matched, p.Cursor);
        var ids = await store.JobFindOldestAsync(match, p.Max, ct).ConfigureAwait(false);
        if (ids.Count == 0) return new JobBulkResult(p.Action, false, matched, 0, 0, p.Cursor);
        long touched = 0;
        foreach (var id in ids)
        {
            try
            {
                if (p.Action == JobBulkAction.Retry) await store.JobRetryAsync(id, ct).ConfigureAwait(false);
                else await store.JobCancelAsync(id, ct).ConfigureAwait(false);
                touched++;
            }
            catch (Exception e) when (e is IllegalTransitionException or JobNotFoundException)
            {
                // It moved on (or was cleaned) since it was found: not this action's any more.
            }
        }
        // Counted after the last job looked at: a job this call retried that failed again meanwhile is behind the
        // cursor, not "remaining", so a caller looping while some remain never takes it twice.
        var cursor = ids[^1];
        var remaining = await store.JobCountAsync(match with { After = cursor }, ct).ConfigureAwait(false);
        return new JobBulkResult(p.Action, false, matched, touched, remaining, cursor);
    }
}
