using Gantry.Jobs;

namespace Gantry.Storage.Postgres;

// Leases live in job_leases, apart from the jobs they cover: the jobs table keeps no index of running
// jobs, so a claim writes no index entry for a lease and a completion changes no indexed value (a HOT
// update). A record names a worker, a time and the attempts it covers:
// - a claim writes one for every job it took, with the claim's lease;
// - a heartbeat replaces the worker's previous heartbeat record with one naming the attempts it holds that
//   are still its own, and deletes the claim records it names as taken in (each of their jobs is then held,
//   so named again, or has its outcome written). An attempt its previous record named, that it names no
//   more and that still runs under it keeps a record with the lease it had: a worker that loses track of a
//   job without reporting it does not strand it;
// - an attempt is leased while some unexpired record of its worker names it. The rescuer takes expired
//   records and takes back their attempts still running under that worker and named by no live record.
// A claim whose answer never reached its worker is never named, so its record expires with the claim's lease.
/// <summary>The lease records' statements, shared by the claims, heartbeats, dead workers and the rescuer.</summary>
internal static class PostgresLeases
{
    /// <summary>Job row <c>j</c> is attempt <c>{attempt}.attempt</c> of job <c>{attempt}.id</c>, still running under <paramref name="worker"/>:
    /// the one test of whether a lease record's attempt is still its worker's.</summary>
    internal static string StillRuns(string attempt, string worker) =>
        FenceSql.Attempt($"{attempt}.id", $"{attempt}.attempt", worker, row: "j.");

    /// <summary>The claim's lease record, over the rows of <paramref name="claimed"/> (id, attempt); returns its number.</summary>
    internal static string ClaimLeaseRecord(string claimed) => $"""
        INSERT INTO job_leases (worker_id, by_heartbeat, lease_until, jobs, attempts)
          SELECT @worker, false, @lease_until, array_agg(id), array_agg(attempt) FROM {claimed} HAVING count(*) > 0
          RETURNING seq
        """;

    // One statement. $1 the new lease, $2/$3 the attempts named, $4 the worker, $5 the claims named.
    internal static readonly string RenewLeasesSql = $"""
        WITH named AS (
          SELECT id, attempt FROM unnest($2::uuid[], $3::int[]) AS u(id, attempt)),
        held AS (
          SELECT j.id, j.attempt FROM named AS u
          JOIN jobs AS j ON {StillRuns("u", "$4")}),
        prior AS (
          DELETE FROM job_leases WHERE worker_id = $4 AND (by_heartbeat OR seq = ANY($5::bigint[]))
          RETURNING by_heartbeat, lease_until, jobs, attempts),
        dropped AS (
          SELECT max(p.lease_until) AS lease_until, u.id, u.attempt
          FROM prior AS p CROSS JOIN LATERAL unnest(p.jobs, p.attempts) AS u(id, attempt)
          WHERE p.by_heartbeat AND NOT EXISTS (SELECT 1 FROM named AS n WHERE n.id = u.id AND n.attempt = u.attempt)
            AND EXISTS (SELECT 1 FROM jobs AS j WHERE {StillRuns("u", "$4")})
          GROUP BY u.id, u.attempt),
        kept AS (
          INSERT INTO job_leases (worker_id, by_heartbeat, lease_until, jobs, attempts)
          SELECT $4, false, lease_until, array_agg(id), array_agg(attempt) FROM dropped GROUP BY lease_until),
        renewed AS (
          INSERT INTO job_leases (worker_id, by_heartbeat, lease_until, jobs, attempts)
          SELECT $4, true, $1, array_agg(id), array_agg(attempt) FROM held HAVING count(*) > 0)
        SELECT id, attempt FROM held
        """;

    // Expired records, a few at a time (each names up to a claim's worth of jobs), taken out as they are read;
    // SKIP LOCKED lets a second rescuer take others. The table holds only recent claims and one record per
    // worker, so it is read without an index.
    internal const string ExpiredLeasesSql = """
        WITH expired AS (
          DELETE FROM job_leases WHERE seq = ANY(ARRAY(
            SELECT seq FROM job_leases WHERE lease_until < @now ORDER BY lease_until LIMIT @records FOR UPDATE SKIP LOCKED))
          RETURNING seq, worker_id, jobs, attempts)
        SELECT e.seq, e.worker_id, u.id, u.attempt FROM expired AS e CROSS JOIN LATERAL unnest(e.jobs, e.attempts) AS u(id, attempt)
        """;

    // Of those attempts, the ones still running under the same worker and named by none of its live records
    // (a later heartbeat or claim): their lease is over. Locked, waiting rather than skipping: an attempt
    // passed over here would be left with no record at all.
    internal static readonly string ExpiredAttemptsSql = $"""
        SELECT j.id, j.attempt, j.max_attempts, j.worker_id, j.cancel_requested_at IS NOT NULL
        FROM unnest($1::uuid[], $2::int[], $3::text[]) AS c(id, attempt, worker_id)
        JOIN jobs AS j ON {StillRuns("c", "c.worker_id")}
        WHERE NOT EXISTS (SELECT 1 FROM job_leases AS l WHERE l.worker_id = c.worker_id AND l.lease_until >= $4 AND c.id = ANY(l.jobs))
        ORDER BY j.id
        FOR UPDATE OF j
        """;

    /// <summary>The attempts named by <paramref name="leases"/> (rows of job_leases) that still run under the record's worker.</summary>
    internal static string LeasedRunning(string leases) => $"""
        {leases} CROSS JOIN LATERAL unnest(l.jobs, l.attempts) AS u(id, attempt)
        JOIN jobs AS j ON {StillRuns("u", "l.worker_id")}
        """;

    /// <summary>A job's lease, for people: the latest record of its worker naming it, while it runs. (A property: static
    /// fields of other types are built from it, so it must not wait on this type's initialisers.)</summary>
    internal static string LeaseUntilColumn => $"""
        CASE WHEN state = '{JobState.Running.ToText()}' THEN
          (SELECT max(l.lease_until) FROM job_leases AS l WHERE l.worker_id = jobs.worker_id AND jobs.id = ANY(l.jobs)) END
        """;
}
