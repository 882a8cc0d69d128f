using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Storage.Sqlite.Native;

namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    // A job with required capabilities is claimable only when every one of them is among the worker's.
    private static readonly string ClaimSql = $"""
        UPDATE jobs
        SET state = 'running', attempt = attempt + 1, worker_id = @worker, lease_until = @lease_until,
            started_at = @now, progress = NULL, progress_message = NULL
        WHERE seq IN (
            SELECT j.seq FROM jobs AS j
            WHERE j.{JobStateMachine.SqlFrom(JobTransition.Claim)} AND j.queue = @queue
              AND (@types IS NULL OR j.type IN (SELECT value FROM json_each(@types)))
              AND (j.required_capabilities IS NULL OR NOT EXISTS (
                    SELECT 1 FROM json_each(j.required_capabilities) AS need
                    WHERE need.value NOT IN (SELECT value FROM json_each(@caps))))
            ORDER BY j.priority DESC, j.seq
            LIMIT @limit)
        RETURNING seq, id, type, queue, priority, payload, attempt, max_attempts, timeout_ms,
                  backoff_base_ms, backoff_max_ms, tags, created_at
        """;

    public Task<IReadOnlyList<ClaimedJob>> JobClaimAsync(JobClaimParams p, CancellationToken ct)
    {
        if (p.Queues.All(q => q.Limit <= 0)) return Task.FromResult<IReadOnlyList<ClaimedJob>>([]);
        var caps = CoreJson.ListToJson(p.Capabilities) ?? "[]";
        var types = p.JobTypes is null ? null : CoreJson.ListToJson(p.JobTypes) ?? "[]";
        return WriteAsync<IReadOnlyList<ClaimedJob>>(_ =>
        {
            var now = NowMs();
            var leaseUntil = now + (long)p.LeaseDuration.TotalMilliseconds;
            var claimed = new List<(long Seq, ClaimedJob Job)>();
            var claim = Raw(ClaimSql);
            foreach (var demand in p.Queues)
            {
                if (demand.Limit <= 0) continue;
                claim.Bind("@worker", p.WorkerId).Bind("@lease_until", leaseUntil).Bind("@now", now)
                    .Bind("@queue", demand.Queue).Bind("@caps", caps).Bind("@types", types).Bind("@limit", demand.Limit);
                try
                {
                    while (claim.Step()) claimed.Add((claim.GetInt64(0), ReadClaimed(claim, p.WorkerId)));
                }
                finally
                {
                    claim.Reset();
                }
            }
            // RETURNING does not keep the subquery's order: restore priority, then age.
            claimed.Sort((a, b) => a.Job.Priority != b.Job.Priority ? b.Job.Priority.CompareTo(a.Job.Priority) : a.Seq.CompareTo(b.Seq));
            return claimed.ConvertAll(c => c.Job);
        }, ct);
    }

    private static ClaimedJob ReadClaimed(RawStatement r, string workerId) => new()
    {
        Id = Guid.Parse(r.GetString(1)),
        Type = r.GetString(2),
        Queue = r.GetString(3),
        Priority = r.GetInt32(4),
        Payload = r.GetString(5),
        Attempt = r.GetInt32(6),
        MaxAttempts = r.GetInt32(7),
        Timeout = r.GetInt64OrNull(8) is { } t ? TimeSpan.FromMilliseconds(t) : null,
        Backoff = new Backoff(TimeSpan.FromMilliseconds(r.GetInt64(9)), TimeSpan.FromMilliseconds(r.GetInt64(10))),
        Tags = r.IsNull(11) ? NewJob.NoTags : CoreJson.TagsFromJson(r.GetString(11)),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(12)),
        WorkerId = workerId,
    };
}
