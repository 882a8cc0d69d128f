using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Storage.Sqlite.Native;

namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    /// <summary>
    /// The claim for a worker with <paramref name="types"/> job types (null: any) and
    /// <paramref name="caps"/> capabilities. The lists are spelled out as parameters, not passed as
    /// JSON: a json_each per statement costs a claim more than its row updates. A job with required
    /// capabilities is claimable only when every one of them is among the worker's.
    /// </summary>
    private static string ClaimSql(int? types, int caps) => ClaimSql(types, caps, limited: false);

    /// <summary>The worker's job type and capability filters on the jobs aliased <paramref name="alias"/>.</summary>
    private static string ClaimFilters(int? types, int caps, string alias)
    {
        static string List(string prefix, int n) => string.Join(", ", Enumerable.Range(0, n).Select(i => $"@{prefix}{i}"));
        var typeFilter = types is { } t ? $"AND {alias}.type IN ({(t == 0 ? "NULL" : List("t", t))})" : "";
        var capFilter = caps == 0
            ? $"AND {alias}.required_capabilities IS NULL"
            : $"AND ({alias}.required_capabilities IS NULL OR NOT EXISTS (SELECT 1 FROM json_each({alias}.required_capabilities) AS need WHERE need.value NOT IN ({List("c", caps)})))";
        return $"{typeFilter} {capFilter}";
    }

    /// <summary>How many columns <see cref="ClaimReturning"/> names: a claim that returns more puts them after these.</summary>
    private const int ClaimReturningCount = 21;

    /// <summary>The columns every claim returns, in the order <see cref="ReadClaimed"/> reads them.</summary>
    private const string ClaimReturning = """
        RETURNING seq, id, type, queue, priority, payload, attempt, max_attempts, timeout_ms,
                  backoff_base_ms, backoff_max_ms, tags, created_at, checkpoint, checkpoint_at, checkpoint_interval_ms, run_at,
                  workflow_id IS NOT NULL, trace_parent, trace_state, limits
        """;

    /// <summary>
    /// The claim of up to @limit jobs. A queue without limits is claimed only while it has none (a limited queue is
    /// claimed by the limited path, SqliteJobStore.Flow.cs, which passes <paramref name="limited"/> to mark its jobs as slot holders).
    /// </summary>
    private static string ClaimSql(int? types, int caps, bool limited) => $"""
        UPDATE jobs
        SET state = 'running', attempt = attempt + 1, worker_id = @worker, lease_until = @lease_until,
            started_at = @now, progress = NULL, progress_message = NULL{(limited ? ", slot = 1" : "")}
        WHERE seq IN (
            SELECT j.seq FROM jobs AS j
            WHERE j.{StateSql.From(JobTransition.Claim)} AND j.queue = @queue {ClaimFilters(types, caps, "j")}
              AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = @queue) AND {WorkerStates.ClaimsSql}
              {(limited ? "" : "AND NOT EXISTS (SELECT 1 FROM queue_limits WHERE queue = @queue)")}
            ORDER BY j.priority DESC, j.seq
            LIMIT @limit)
        {ClaimReturning}
        """;

    private readonly Dictionary<(int?, int), string> _claimSql = [];

    private readonly ClaimedRows _claimedRows = new();

    public Task<IReadOnlyList<ClaimedJob>> JobClaimAsync(JobClaimParams p, CancellationToken ct)
    {
        if (p.Queues.All(q => q.Limit <= 0)) return Task.FromResult<IReadOnlyList<ClaimedJob>>([]);
        return WriteAsync<IReadOnlyList<ClaimedJob>>(_ =>
        {
            var now = NowMs();
            var leaseUntil = now + (long)p.LeaseDuration.TotalMilliseconds;
            var claimed = new List<(long Seq, ClaimedJob Job, bool IsStep)>(ClaimCapacity(p));
            var heldBack = new List<string>();
            var shape = (p.JobTypes?.Count, p.Capabilities.Count);
            if (!_claimSql.TryGetValue(shape, out var sql)) _claimSql[shape] = sql = ClaimSql(shape.Item1, shape.Item2);
            var claim = Raw(sql);
            RefreshLimited();
            foreach (var demand in p.Queues)
            {
                if (demand.Limit <= 0) continue;
                if (_limited.Queues.Contains(demand.Queue) && ClaimLimited(demand, p, now, leaseUntil, claimed, heldBack)) continue;
                claim.Bind("@worker", p.WorkerId).Bind("@lease_until", leaseUntil).Bind("@now", now)
                    .Bind("@queue", demand.Queue).Bind("@limit", demand.Limit);
                for (var i = 0; i < p.JobTypes?.Count; i++) claim.Bind($"@t{i}", p.JobTypes[i]);
                for (var i = 0; i < p.Capabilities.Count; i++) claim.Bind($"@c{i}", p.Capabilities[i]);
                try
                {
                    while (claim.Step()) claimed.Add((claim.GetInt64(0), ReadClaimed(claim, p.WorkerId), claim.GetInt64(17) == 1));
                }
                finally
                {
                    claim.Reset();
                }
            }
            _claimedRows.Remember(claimed);
            // Only workflow steps look up their dependencies' results: a plain job's claim costs nothing more.
            if (claimed.Any(c => c.IsStep))
            {
                var dependencies = DependencyResults(claimed.Where(c => c.IsStep).Select(c => c.Seq).ToArray());
                claimed = claimed.ConvertAll(c => c.IsStep ? c with { Job = c.Job with { Dependencies = dependencies[c.Seq] } } : c);
            }
            // RETURNING does not keep the subquery's order: restore priority, then age.
            claimed.Sort((a, b) => a.Job.Priority != b.Job.Priority ? b.Job.Priority.CompareTo(a.Job.Priority) : a.Seq.CompareTo(b.Seq));
            var jobs = claimed.ConvertAll(c => c.Job);
            return heldBack.Count == 0 ? jobs : new ClaimedJobs(jobs, heldBack);
        }, ct);
    }

    /// <summary>The last type, queue and payload a claim read: the next job's, when the same, are the same strings.
    /// Touched only under the write lock.</summary>
    private ClaimTexts _claimTexts;

    private struct ClaimTexts
    {
        public string? Type, Queue, Payload;
    }

    /// <summary>Room for what a claim may bring, up to a bound (a large limit is rarely met).</summary>
    private static int ClaimCapacity(JobClaimParams p)
    {
        var wanted = 0;
        foreach (var demand in p.Queues) wanted += Math.Max(demand.Limit, 0);
        return Math.Min(wanted, 1024);
    }

    private ClaimedJob ReadClaimed(RawStatement r, string workerId) => new()
    {
        Id = r.GetGuid(1),
        Type = r.GetString(2, ref _claimTexts.Type),
        Queue = r.GetString(3, ref _claimTexts.Queue),
        Priority = r.GetInt32(4),
        Payload = r.GetString(5, ref _claimTexts.Payload),
        Attempt = r.GetInt32(6),
        MaxAttempts = r.GetInt32(7),
        Timeout = r.GetInt64OrNull(8) is { } t ? TimeSpan.FromMilliseconds(t) : null,
        Backoff = Backoff.Of(TimeSpan.FromMilliseconds(r.GetInt64(9)), TimeSpan.FromMilliseconds(r.GetInt64(10))),
        Tags = r.IsNull(11) ? NewJob.NoTags : StoreJson.TagsFromJson(r.GetString(11)),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(12)),
        Checkpoint = r.GetBytesOrNull(13),
        CheckpointAt = r.GetInt64OrNull(14) is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null,
        CheckpointInterval = r.GetInt64OrNull(15) is { } ci ? TimeSpan.FromMilliseconds(ci) : null,
        DueAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64OrNull(16) ?? r.GetInt64(12)),
        WorkerId = workerId,
        TraceParent = r.GetStringOrNull(18),
        TraceState = r.GetStringOrNull(19),
        Limits = ResourceLimits.FromJson(r.GetStringOrNull(20)),
    };
}
