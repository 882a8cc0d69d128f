using Gantry.Flow;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The claim: for each queue a worker asks of, one statement that marks its first claimable jobs running and returns
/// them, all in one write transaction. A queue with limits is claimed by <paramref name="flowLimits"/>; a paused queue
/// yields nothing (its statement's own condition). The rows claimed are remembered in <paramref name="claimedRows"/>,
/// so that their success is found by row key (<see cref="SqliteReports"/>); claimed workflow steps get their
/// dependencies' results from <paramref name="workflows"/>.
/// </summary>
internal sealed class SqliteClaims(SqliteDatabase db, SqliteFlowLimits flowLimits, ClaimedJobReader reader, ClaimedRows claimedRows, SqliteWorkflows workflows) : IStoreClaims
{
    private readonly Dictionary<(int?, int), string> _claimSql = [];

    public Task<IReadOnlyList<ClaimedJob>> JobClaimAsync(JobClaimParams p, CancellationToken ct)
    {
        if (p.Queues.All(q => q.Limit <= 0)) return Task.FromResult<IReadOnlyList<ClaimedJob>>([]);
        return db.WriteAsync<IReadOnlyList<ClaimedJob>>(_ =>
        {
            var now = db.NowMs();
            var leaseUntil = now + (long)p.LeaseDuration.TotalMilliseconds;
            var claimed = new List<(long Seq, ClaimedJob Job, bool IsStep)>(ClaimCapacity(p));
            var heldBack = new List<string>();
            var shape = (p.JobTypes?.Count, p.Capabilities.Count);
            if (!_claimSql.TryGetValue(shape, out var sql)) _claimSql[shape] = sql = ClaimStatements.Sql(shape.Item1, shape.Item2);
            var claim = db.Raw(sql);
            flowLimits.Refresh();
            foreach (var demand in p.Queues)
            {
                if (demand.Limit <= 0) continue;
                if (flowLimits.IsLimited(demand.Queue) && flowLimits.ClaimLimited(demand, p, now, leaseUntil, claimed, heldBack)) continue;
                ClaimStatements.BindFilters(claim, p).Bind("@worker", p.WorkerId).Bind("@lease_until", leaseUntil).Bind("@now", now)
                    .Bind("@queue", demand.Queue).Bind("@limit", demand.Limit);
                try
                {
                    while (claim.Step()) claimed.Add((claim.GetInt64(0), reader.Read(claim, p.WorkerId), claim.GetInt64(17) == 1));
                }
                finally
                {
                    claim.Reset();
                }
            }
            claimedRows.Remember(claimed);
            // Only workflow steps look up their dependencies' results: a plain job's claim costs nothing more.
            if (claimed.Any(c => c.IsStep))
            {
                var dependencies = workflows.DependencyResults(claimed.Where(c => c.IsStep).Select(c => c.Seq).ToArray());
                claimed = claimed.ConvertAll(c => c.IsStep ? c with { Job = c.Job with { Dependencies = dependencies[c.Seq] } } : c);
            }
            // RETURNING does not keep the subquery's order: restore priority, then age.
            claimed.Sort((a, b) => a.Job.Priority != b.Job.Priority ? b.Job.Priority.CompareTo(a.Job.Priority) : a.Seq.CompareTo(b.Seq));
            var jobs = claimed.ConvertAll(c => c.Job);
            return heldBack.Count == 0 ? jobs : new ClaimedJobs(jobs, heldBack);
        }, ct);
    }

    /// <summary>Room for what a claim may bring, up to a bound (a large limit is rarely met).</summary>
    private static int ClaimCapacity(JobClaimParams p)
    {
        var wanted = 0;
        foreach (var demand in p.Queues) wanted += Math.Max(demand.Limit, 0);
        return Math.Min(wanted, 1024);
    }
}
