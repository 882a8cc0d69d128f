using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Serialization;
using Npgsql;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>Claims jobs for a worker: the plain claim of each queue, and the limited one (<see cref="PostgresFlowLimits"/>) of a queue with flow limits, as <paramref name="limited"/> last read them.</summary>
internal sealed class PostgresClaims(PostgresDatabase db, PostgresLimitedQueues limited) : IStoreClaims
{
    // The claim takes rows of job_ready (one per queued job, see PostgresSchema migration 10) and deletes them, then
    // marks their jobs running. `ctid = ANY(ARRAY(subquery))`, not `… IN (subquery)`: with IN the planner may join
    // against a scan of the whole table; the array form walks the claim index and stops at the limit, and the DELETE
    // takes the locked rows by address (a TID scan). SKIP LOCKED lets concurrent claimers pass each other's rows
    // instead of waiting on them. A job with required capabilities is claimable only when the worker has all (the
    // ready row carries the job's type and capabilities, so the filters need no look-up). Nothing else can take a job
    // out of queued while the claim holds its ready row: a cancel locks that row first (PostgresControl.LockReadyAsync).
    // The update of jobs changes no indexed value, so it can be heap-only, and fires no trigger (the claim keeps
    // job_ready in step itself).
    // A queue with flow limits is claimed by LimitedClaimSql (PostgresFlowLimits); this statement takes nothing
    // from one, so an instance that has not yet heard of a new limit cannot exceed it.
    // The claim's lease is one record for all its jobs (see PostgresLeases); its number goes
    // back with each job, for the worker to name once it has taken them in.
    /// <summary>What every claim (plain or limited) returns of each job it took, in the order <see cref="ReadClaimed"/> reads.</summary>
    internal const string ClaimedColumns = """
        seq, id, type, jobs.queue, priority, payload, attempt, max_attempts, timeout_ms,
                  backoff_base_ms, backoff_max_ms, tags, created_at, checkpoint, checkpoint_at, checkpoint_interval_ms, run_at,
                  workflow_id IS NOT NULL AS step, trace_parent, trace_state, limits
        """;

    private static readonly string ClaimSql = $"""
        WITH ready AS (
          DELETE FROM job_ready WHERE ctid = ANY(ARRAY(
            SELECT r.ctid FROM job_ready AS r
            WHERE r.queue = @queue
              AND (@types::text[] IS NULL OR r.type = ANY(@types))
              AND (r.required_capabilities IS NULL OR r.required_capabilities <@ @caps)
              AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = @queue) AND {WorkerStates.ClaimsSql}
              AND NOT EXISTS (SELECT 1 FROM queue_limits WHERE queue = @queue)
            ORDER BY r.priority DESC, r.seq
            LIMIT @limit
            FOR UPDATE SKIP LOCKED))
          RETURNING job_id),
        claimed AS (
          UPDATE jobs
          SET state = '{JobState.Running.ToText()}', attempt = attempt + 1, worker_id = @worker,
              started_at = @now, progress = NULL, progress_message = NULL
          FROM ready
          WHERE jobs.id = ready.job_id AND jobs.{StateSql.From(JobTransition.Claim)}
          RETURNING {ClaimedColumns}),
        lease AS (
          {PostgresLeases.ClaimLeaseRecord("claimed")})
        SELECT claimed.*, (SELECT seq FROM lease) FROM claimed
        """;

    public async Task<IReadOnlyList<ClaimedJob>> JobClaimAsync(JobClaimParams p, CancellationToken ct)
    {
        // Queue order: limited claims lock their queues' limit rows, always in the same order.
        var demands = p.Queues.Where(q => q.Limit > 0).OrderBy(q => q.Queue, StringComparer.Ordinal).ToArray();
        if (demands.Length == 0) return [];
        var readLimits = limited.IsStale;
        var now = db.Time.GetUtcNow();
        var types = p.JobTypes?.ToArray();
        var caps = p.Capabilities.ToArray();
        // One statement per queue (two for a limited one), sent together in one round trip and one implicit transaction.
        async Task<List<(long Seq, ClaimedJob Job)>> ClaimOnAsync(NpgsqlConnection c)
        {
            if (readLimits)
            {
                await using var read = Command(c, PostgresLimitedQueues.ReadSql);
                await using var rows = await read.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await limited.ReadAsync(rows, ct).ConfigureAwait(false);
            }
            await using var batch = new NpgsqlBatch(c);
            // The plan is the connection's cached generic one, made with sequential scans and sorts off:
            // whatever the statistics said when it was made (a near-empty table makes a seq scan and a
            // sort look cheapest, and the plan would stay cached), it walks the claim index in order and
            // stops at the limit, and no call pays for planning (0.5–1 ms). The claim commits without
            // waiting for its WAL flush: a claim lost to a database crash leaves the job queued to be
            // claimed again, and the first worker's reports then fail the fence (at least once, as ever).
            // Local settings last until the batch's implicit transaction ends: exactly these statements.
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                "SELECT set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true), set_config('synchronous_commit', 'off', true)"));
            foreach (var demand in demands)
                foreach (var cmd in ClaimCommands(demand, p, now, types, caps))
                    batch.BatchCommands.Add(cmd);
            var list = new List<(long Seq, ClaimedJob Job)>(Math.Min(demands.Sum(d => d.Limit), 1024)); // room for what the claim may bring
            var steps = new List<long>();
            var texts = new ClaimTexts();
            await using (var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                await r.NextResultAsync(ct).ConfigureAwait(false); // past set_config's row
                do
                {
                    if (r.FieldCount == 1) continue; // a limited queue's lock (LockLimitsSql)
                    while (await r.ReadAsync(ct).ConfigureAwait(false))
                    {
                        list.Add((r.GetInt64(0), ReadClaimed(r, p.WorkerId, claimId: r.GetInt64(21), texts)));
                        if (r.GetBoolean(17)) steps.Add(r.GetInt64(0));
                    }
                } while (await r.NextResultAsync(ct).ConfigureAwait(false));
            }
            // Only workflow steps look up their dependencies' results: a plain job's claim costs nothing more.
            // A plain read after the claim's batch committed: succeeded results no longer change.
            if (steps.Count == 0) return list;
            var dependencies = await PostgresWorkflows.DependencyResultsAsync(c, steps, ct).ConfigureAwait(false);
            return list.ConvertAll(x => dependencies.TryGetValue(x.Seq, out var d) ? (x.Seq, Job: x.Job with { Dependencies = d }) : x);
        }
        // Reading which queues have limits first makes two round trips: one transaction for both, so that an idle
        // worker's claim costs the database one transaction either way.
        var claimed = readLimits
            ? await db.TransactAsync(ClaimOnAsync, ct).ConfigureAwait(false)
            : await db.OneBatchAsync(ClaimOnAsync, ct).ConfigureAwait(false);
        // RETURNING does not keep the subquery's order: restore priority, then age.
        claimed.Sort((a, b) => a.Job.Priority != b.Job.Priority ? b.Job.Priority.CompareTo(a.Job.Priority) : a.Seq.CompareTo(b.Seq));
        List<string>? heldBack = null;
        foreach (var demand in demands)
            if (limited.IsLimited(demand.Queue) && claimed.Count(c => c.Job.Queue == demand.Queue) is var got && got < demand.Limit)
            {
                (heldBack ??= []).Add(demand.Queue);
                limited.WakeAfterShortClaim(demand.Queue, got, db.Signals.JobsAvailable);
            }
        var jobs = claimed.ConvertAll(c => c.Job);
        return heldBack is null ? jobs : new ClaimedJobs(jobs, heldBack);
    }

    /// <summary>
    /// The last type, queue and payload a claim read, and room to read the next one's bytes into: a job whose text is the
    /// same (a claim's jobs mostly share their type and queue, often their payload) gets the same string, not a new one.
    /// </summary>
    private sealed class ClaimTexts
    {
        private readonly byte[] _scratch = new byte[256];
        public string? Type, Queue, Payload;

        /// <summary>Column <paramref name="i"/>'s text: <paramref name="last"/> when the same ASCII text, else a new string kept in it.</summary>
        public string Read(NpgsqlDataReader r, int i, ref string? last)
        {
            // A text column's bytes are its UTF-8 text; a longer one than the room is read as a string (the row is buffered).
            var length = r.GetBytes(i, 0, null, 0, 0);
            if (length > _scratch.Length) return last = r.GetString(i);
            var utf8 = _scratch.AsSpan(0, (int)r.GetBytes(i, 0, _scratch, 0, _scratch.Length));
            if (last is not null && System.Text.Ascii.Equals(utf8, last)) return last;
            return last = System.Text.Encoding.UTF8.GetString(utf8);
        }
    }

    private static ClaimedJob ReadClaimed(NpgsqlDataReader r, string workerId, long claimId, ClaimTexts texts) => new()
    {
        ClaimId = claimId,
        Id = r.GetGuid(1),
        Type = texts.Read(r, 2, ref texts.Type),
        Queue = texts.Read(r, 3, ref texts.Queue),
        Priority = r.GetInt32(4),
        Payload = texts.Read(r, 5, ref texts.Payload),
        Attempt = r.GetInt32(6),
        MaxAttempts = r.GetInt32(7),
        Timeout = r.GetInt64OrNull(8) is { } t ? TimeSpan.FromMilliseconds(t) : null,
        Backoff = Backoff.Of(TimeSpan.FromMilliseconds(r.GetInt64(9)), TimeSpan.FromMilliseconds(r.GetInt64(10))),
        Tags = r.IsDBNull(11) ? NewJob.NoTags : StoreJson.TagsFromJson(r.GetString(11)),
        CreatedAt = r.GetTime(12),
        Checkpoint = r.IsDBNull(13) ? null : r.GetFieldValue<byte[]>(13),
        CheckpointAt = r.GetTimeOrNull(14),
        CheckpointInterval = r.GetInt64OrNull(15) is { } ci ? TimeSpan.FromMilliseconds(ci) : null,
        DueAt = r.IsDBNull(16) ? r.GetTime(12) : r.GetTime(16),
        WorkerId = workerId,
        TraceParent = r.GetStringOrNull(18),
        TraceState = r.GetStringOrNull(19),
        Limits = ResourceLimits.FromJson(r.GetStringOrNull(20)),
    };

    /// <summary>The claim statements of one queue: the plain claim, or for a limited queue the lock and the limited claim.</summary>
    private IEnumerable<NpgsqlBatchCommand> ClaimCommands(QueueDemand demand, JobClaimParams p, DateTimeOffset now, string[]? types, string[] caps)
    {
        var isLimited = limited.IsLimited(demand.Queue);
        if (isLimited) yield return new NpgsqlBatchCommand(PostgresFlowLimits.LockLimitsSql).Bind("@queue", demand.Queue);
        var sql = !isLimited ? ClaimSql : limited.IsPerKey(demand.Queue) ? PostgresFlowLimits.LimitedClaimPerKeySql : PostgresFlowLimits.LimitedClaimPlainSql;
        var cmd = new NpgsqlBatchCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter("@worker", p.WorkerId));
        cmd.Parameters.Add(new NpgsqlParameter("@lease_until", (now + p.LeaseDuration).UtcDateTime));
        cmd.Parameters.Add(new NpgsqlParameter("@now", now.UtcDateTime));
        cmd.Parameters.Add(new NpgsqlParameter("@queue", demand.Queue));
        cmd.Parameters.Add(new NpgsqlParameter("@types", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = (object?)types ?? DBNull.Value });
        cmd.Parameters.Add(new NpgsqlParameter("@caps", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = caps });
        cmd.Parameters.Add(new NpgsqlParameter("@limit", demand.Limit));
        yield return cmd;
    }
}
