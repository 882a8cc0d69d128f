using Gantry.Jobs;
using Gantry.Workflows;
using Npgsql;
using NpgsqlTypes;
using static Gantry.Storage.Postgres.PostgresDatabase;

namespace Gantry.Storage.Postgres;

/// <summary>Workflows: creation, reads, cancel, and what a step's end does to the rest (release of dependents, cancel of the downstream).</summary>
internal sealed class PostgresWorkflows(PostgresDatabase db) : IStoreWorkflows
{
    // Sets as array parameters, each found through an index (the primary key, or the edges' index on depends_on_seq).
    private static readonly string ReleaseSql = WorkflowSql.Release($"seq = ANY(@seqs) AND {WorkflowSql.IsStep}");
    private static readonly string DependentsOfSql = WorkflowSql.DependentsOf("depends_on_seq = ANY(@seqs)");
    private static readonly string DependencyResultsSql = WorkflowSql.DependencyResults("d.job_seq = ANY(@seqs)");

    public async Task<WorkflowCreateResult> WorkflowCreateAsync(WorkflowCreateParams p, CancellationToken ct)
    {
        var wf = p.Workflow;
        using var trace = Gantry.Telemetry.GantryTracing.StartEnqueue(wf.Steps.Select(s => s.Job).ToArray(), wf.Id);
        var now = db.Time.GetUtcNow();
        var states = wf.Steps.Select(s => s.DependsOn.Count > 0 ? JobState.Waiting : JobStart.State(s.Job, now)).ToArray();
        var result = await db.TransactAsync(async c =>
        {
            await Command(c, WorkflowSql.InsertWorkflow).Bind("@id", wf.Id).Bind("@name", wf.Name).Bind("@on_failure", wf.OnFailure.ToText())
                .Bind("@now", now.UtcDateTime).RunAsync(ct).ConfigureAwait(false);
            var jobs = wf.Steps.Select(s => s.Job).ToArray();
            var seqs = await PostgresEnqueue.InsertJobsAsync(c, jobs, states, now, wf, null, ct).ConfigureAwait(false);
            if (seqs.Count != jobs.Length) throw new InvalidInputException("steps", "a step's job id is already taken");
            var bySteps = wf.Steps.ToDictionary(s => s.Name, s => seqs[s.Job.Id], StringComparer.Ordinal);
            var edges = wf.Steps.SelectMany(s => s.DependsOn.Select(d => (Job: bySteps[s.Name], DependsOn: bySteps[d]))).ToArray();
            if (edges.Length > 0)
                await Command(c, "INSERT INTO job_dependencies (job_seq, depends_on_seq) SELECT * FROM unnest(@jobs, @deps)")
                    .Bind("@jobs", edges.Select(e => e.Job).ToArray()).Bind("@deps", edges.Select(e => e.DependsOn).ToArray())
                    .RunAsync(ct).ConfigureAwait(false);
            if (states.Contains(JobState.Queued)) await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
            if (states.Contains(JobState.Scheduled)) await db.NotifyAsync(c, PostgresNotifications.Schedule, ct).ConfigureAwait(false);
            return new WorkflowCreateResult(wf.Id, wf.Steps.Select((s, i) => new WorkflowStepJob(s.Name, s.Job.Id, states[i])).ToArray());
        }, ct).ConfigureAwait(false);
        if (states.Contains(JobState.Queued)) db.Signals.JobsAvailable.Set();
        if (states.Contains(JobState.Scheduled)) db.Signals.ScheduleChanged.Set();
        return result;
    }

    public Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct) => db.RunAsync(async c =>
    {
        // No snapshot needed: the workflow row and its edges never change, and each step is read once.
        WorkflowRecord? workflow;
        await using (var cmd = Command(c, WorkflowSql.Get).Bind("@id", id))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (!await r.ReadAsync(ct).ConfigureAwait(false)) return null;
            workflow = new WorkflowRecord
            {
                Id = r.GetGuid(0), Name = r.GetString(1), OnFailure = WorkflowOnFailures.Parse(r.GetString(2)), CreatedAt = r.GetTime(3), Steps = [],
            };
        }
        var steps = new List<(long Seq, WorkflowStepRecord Step)>();
        await using (var cmd = Command(c, WorkflowSql.Steps).Bind("@workflow", id))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                steps.Add((r.GetInt64(0), new WorkflowStepRecord
                {
                    Name = r.GetString(1), JobId = r.GetGuid(2), Type = r.GetString(3), State = JobStates.Parse(r.GetString(4)),
                    Attempt = r.GetInt32(5), Result = r.GetStringOrNull(6), StartedAt = r.GetTimeOrNull(7), FinishedAt = r.GetTimeOrNull(8),
                }));
        }
        var edges = new List<(long Job, long DependsOn)>();
        await using (var cmd = Command(c, WorkflowSql.Edges).Bind("@workflow", id))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) edges.Add((r.GetInt64(0), r.GetInt64(1)));
        }
        return workflow with { Steps = WorkflowSteps.WithEdges(steps, edges) };
    }, ct);

    public Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct) => WorkflowPages.ListAsync(p, WorkflowPageAsync, ct);

    private Task<IReadOnlyList<WorkflowSummary>> WorkflowPageAsync(Guid? before, int limit, CancellationToken ct) => db.RunAsync<IReadOnlyList<WorkflowSummary>>(async c =>
    {
        await using var cmd = Command(c, WorkflowSql.List).Bind("@before", before, NpgsqlDbType.Uuid).Bind("@limit", limit);
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<WorkflowSummary>();
        while (await r.ReadAsync(ct).ConfigureAwait(false))
            list.Add(new WorkflowSummary(r.GetGuid(0), r.GetString(1), WorkflowOnFailures.Parse(r.GetString(2)), r.GetTime(3),
                new StepCounts((int)r.GetInt64(4), (int)r.GetInt64(5), (int)r.GetInt64(6), (int)r.GetInt64(7), (int)r.GetInt64(8))));
        return list;
    }, ct);

    public async Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct)
    {
        var result = await db.TransactAsync(async c =>
        {
            if (await Command(c, "SELECT 1 FROM workflows WHERE id = @id").Bind("@id", id).ScalarAsync(ct).ConfigureAwait(false) is null)
                throw new WorkflowNotFoundException(id.ToString());
            var (cancelled, requested) = await StopStepsAsync(c, id, seq: null, db.Now(), ct).ConfigureAwait(false);
            return new WorkflowCancelResult(id, cancelled, requested);
        }, ct).ConfigureAwait(false);
        if (result.Requested > 0) db.Signals.CommandsAvailable.Set();
        return result;
    }

    /// <summary>
    /// After steps succeeded (inside their transaction): each dependent's count of pending dependencies goes
    /// down by how many of its dependencies are among them, and those at zero are queued. Each dependent is
    /// updated once; a concurrent release of the same dependent waits for the row lock and re-reads the count
    /// the other left (a deadlock between two batches sharing dependents rolls one back, to be retried).
    /// True when a step was queued (a NOTIFY is then sent).
    /// </summary>
    internal async Task<bool> ReleaseDependentsAsync(NpgsqlConnection c, List<long> succeededSteps, CancellationToken ct)
    {
        if (succeededSteps.Count == 0) return false;
        var dependents = new List<(long Seq, int Count)>();
        await using (var cmd = Command(c, DependentsOfSql).Bind("@seqs", succeededSteps.ToArray()))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) dependents.Add((r.GetInt64(0), (int)r.GetInt64(1)));
        }
        // One statement per distinct count (usually one: each dependent has one dependency in the batch),
        // each finding its rows through the steps' seq index.
        await using var batch = new NpgsqlBatch(c);
        foreach (var group in dependents.GroupBy(d => d.Count))
        {
            var cmd = new NpgsqlBatchCommand(ReleaseSql);
            cmd.Parameters.Add(new NpgsqlParameter("@seqs", group.Select(d => d.Seq).ToArray()));
            cmd.Parameters.Add(new NpgsqlParameter("@n", group.Key));
            batch.BatchCommands.Add(cmd);
        }
        var queued = false;
        if (batch.BatchCommands.Count > 0)
        {
            await using var r = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
            do
            {
                while (await r.ReadAsync(ct).ConfigureAwait(false)) queued |= r.GetBoolean(0);
            } while (await r.NextResultAsync(ct).ConfigureAwait(false));
        }
        if (queued) await db.NotifyAsync(c, PostgresNotifications.Jobs, ct).ConfigureAwait(false);
        return queued;
    }

    /// <summary>
    /// After a job ended dead or cancelled (inside the transaction that ended it): when it is a workflow step,
    /// its downstream is cancelled, or with on_failure = cancel every unfinished step of its workflow.
    /// True when running steps were asked to stop.
    /// </summary>
    internal async Task<bool> StepStoppedAsync(NpgsqlConnection c, long seq, DateTime now, CancellationToken ct)
    {
        Guid workflowId;
        WorkflowOnFailure onFailure;
        await using (var cmd = Command(c, WorkflowSql.WorkflowOf).Bind("@seq", seq))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            if (!await r.ReadAsync(ct).ConfigureAwait(false)) return false;
            (workflowId, onFailure) = (r.GetGuid(0), WorkflowOnFailures.Parse(r.GetString(1)));
        }
        var (_, requested) = await StopStepsAsync(c, workflowId, onFailure == WorkflowOnFailure.Continue ? seq : null, now, ct).ConfigureAwait(false);
        if (requested > 0) db.Signals.CommandsAvailable.Set();
        return requested > 0;
    }

    /// <summary>Cancels the unfinished steps of a workflow, or only those downstream of <paramref name="seq"/>; returns how many ended and how many were asked to stop.</summary>
    private async Task<(int Cancelled, int Requested)> StopStepsAsync(NpgsqlConnection c, Guid workflowId, long? seq, DateTime now, CancellationToken ct)
    {
        var downstreamOnly = seq is not null;
        NpgsqlCommand InScope(string sql) => (downstreamOnly ? Command(c, sql).Bind("@seq", seq) : Command(c, sql).Bind("@workflow", workflowId)).Bind("@now", now);
        var cancelled = 0;
        await PostgresControl.LockReadyAsync(c, WorkflowSql.Scope(downstreamOnly), cmd => downstreamOnly ? cmd.Bind("@seq", seq) : cmd.Bind("@workflow", workflowId), ct)
            .ConfigureAwait(false);
        await using (var cmd = InScope(WorkflowSql.CancelSteps(downstreamOnly)))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) cancelled++;
        }
        var running = new List<(Guid Id, string? Worker)>();
        await using (var cmd = InScope(WorkflowSql.RequestCancel(downstreamOnly)))
        await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await r.ReadAsync(ct).ConfigureAwait(false)) running.Add((r.GetGuid(0), r.GetStringOrNull(1)));
        }
        foreach (var (id, worker) in running)
            await Command(c, WorkflowSql.InsertCancelCommand).Bind("@worker", worker, NpgsqlDbType.Text).Bind("@id", id).Bind("@now", now)
                .RunAsync(ct).ConfigureAwait(false);
        if (running.Count > 0) await db.NotifyAsync(c, PostgresNotifications.Commands, ct).ConfigureAwait(false);
        return (cancelled, running.Count);
    }

    /// <summary>
    /// The results of claimed steps' dependencies, by step name, per step row key: one statement for the
    /// whole claim, inside its transaction (which plans each statement afresh, so the array is planned for).
    /// </summary>
    internal static async Task<Dictionary<long, Dictionary<string, string?>>> DependencyResultsAsync(NpgsqlConnection c, IReadOnlyList<long> steps, CancellationToken ct)
    {
        var results = steps.ToDictionary(s => s, _ => new Dictionary<string, string?>(StringComparer.Ordinal));
        if (steps.Count == 0) return results;
        await using var cmd = Command(c, DependencyResultsSql).Bind("@seqs", steps.ToArray());
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false)) results[r.GetInt64(0)][r.GetString(1)] = r.GetStringOrNull(2);
        return results;
    }
}
