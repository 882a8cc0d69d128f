using Gantry.Jobs;
using Gantry.Storage.Sqlite.Native;
using Gantry.Telemetry;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// The enqueue: a batch of jobs inserted in one write transaction, or in an application's own transaction on the same
/// file; a job whose idempotency key is taken (and still held) returns the holder instead.
/// </summary>
internal sealed class SqliteEnqueue(SqliteDatabase db, StoreSignals signals) : IStoreEnqueue
{
    public async Task<IReadOnlyList<JobEnqueueResult>> JobEnqueueManyAsync(JobEnqueueParams p, CancellationToken ct)
    {
        if (p.Jobs.Count == 0) return [];
        using var trace = p.Traces is null ? GantryTracing.StartEnqueue(p.Jobs) : null;
        if (p.Transaction is not null) return EnqueueInAppTransaction(p, ct);
        var results = await db.WriteAsync(_ => InsertJobs(p, db.Raw(JobInsert.Sql), db.Raw(JobInsert.FindByKeySql), db.Raw(JobInsert.ReleaseKeySql)), ct).ConfigureAwait(false);
        Signal(results);
        return results;
    }

    /// <summary>
    /// Inserts each job with <paramref name="insert"/> (<see cref="JobInsert.Sql"/>), or finds the job that holds its
    /// idempotency key with <paramref name="find"/> (<see cref="JobInsert.FindByKeySql"/>): the one insert of the store's own
    /// transaction and of an application's.
    /// </summary>
    private JobEnqueueResult[] InsertJobs(JobEnqueueParams p, RawStatement insert, RawStatement find, RawStatement release)
    {
        var jobs = p.Jobs;
        var now = db.NowMs();
        var current = GantryTracing.CurrentContext();
        var results = new JobEnqueueResult[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            var state = JobInsert.FirstState(job, now);
            var trace = JobEnqueueParams.TraceOf(p.Traces, i, current);
            var inserted = JobInsert.BindJob(insert, job, state, now, trace).Execute() == 1;
            // A key whose holder is past its uniqueness window (unique_for, unique_while) is given up, and the job takes it.
            if (!inserted && job.IdempotencyKey is not null
                && release.Bind("@queue", job.Queue).Bind("@key", job.IdempotencyKey).Bind("@now", now).Execute() > 0)
                inserted = JobInsert.BindJob(insert, job, state, now, trace).Execute() == 1;
            if (inserted)
            {
                results[i] = new JobEnqueueResult(job.Id, false, state);
                continue;
            }
            find.Bind("@queue", job.Queue).Bind("@key", job.IdempotencyKey);
            try
            {
                if (job.IdempotencyKey is null || !find.Step())
                    throw new InvalidInputException($"jobs[{i}]", $"job {job.Id} was neither inserted nor found by its idempotency key (is its id already taken?)");
                results[i] = new JobEnqueueResult(Guid.Parse(find.GetString(0)), true, JobStates.Parse(find.GetString(1)));
            }
            finally
            {
                find.Reset();
            }
        }
        return results;
    }

    /// <summary>
    /// The enqueue inside an application's transaction on this file: the same insert, on its connection. SQLite tells
    /// no other process; workers in this one are woken once the transaction has ended (or find the jobs on their next poll).
    /// </summary>
    private JobEnqueueResult[] EnqueueInAppTransaction(JobEnqueueParams p, CancellationToken ct)
    {
        var transaction = p.Transaction!;
        db.ThrowIfDisposed();
        ct.ThrowIfCancellationRequested();
        if (transaction is not SqliteTransaction tx)
            throw new InvalidInputException("transaction", $"is a {transaction.GetType().Name}; the SQLite store {db.FullPath} takes a Microsoft.Data.Sqlite SqliteTransaction on that file");
        if (tx.Connection is not { State: System.Data.ConnectionState.Open, Handle: not null } connection)
            throw new InvalidInputException("transaction", "has ended (committed or rolled back) or its connection is closed");
        var file = connection.DataSource;
        if (string.IsNullOrEmpty(file) || !string.Equals(System.IO.Path.GetFullPath(file), db.FullPath, StringComparison.Ordinal))
            throw new InvalidInputException("transaction", $"is on {(string.IsNullOrEmpty(file) ? "an in-memory database" : file)}, not on the store's file {db.FullPath}");
        JobEnqueueResult[] results;
        try
        {
            using var insert = new RawStatement(connection.Handle, JobInsert.Sql);
            using var find = new RawStatement(connection.Handle, JobInsert.FindByKeySql);
            using var release = new RawStatement(connection.Handle, JobInsert.ReleaseKeySql);
            results = InsertJobs(p, insert, find, release);
        }
        catch (SqliteException ex)
        {
            throw db.Translate(ex);
        }
        _ = SignalWhenEndedAsync(tx, results);
        return results;
    }

    /// <summary>Raises the in-process signals once <paramref name="tx"/> has ended (Microsoft.Data.Sqlite drops its
    /// connection then); a rollback costs a claim that finds nothing.</summary>
    private async Task SignalWhenEndedAsync(SqliteTransaction tx, JobEnqueueResult[] results)
    {
        // Wall-clock waiting, whatever clock the store reads for job times.
        var pause = TimeSpan.FromMilliseconds(1);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (tx.Connection is not null && watch.Elapsed < TimeSpan.FromMinutes(10))
        {
            await Task.Delay(pause).ConfigureAwait(false);
            if (pause < TimeSpan.FromMilliseconds(50)) pause *= 2;
        }
        if (!db.IsDisposed) Signal(results);
    }

    private void Signal(IReadOnlyList<JobEnqueueResult> results)
    {
        foreach (var r in results)
        {
            if (r.Existing) continue;
            if (r.State == JobState.Queued) signals.JobsAvailable.Set();
            else if (r.State == JobState.Scheduled) signals.ScheduleChanged.Set();
        }
    }
}
