using Gantry.Jobs;
using Gantry.Workflows;
using Gantry.Storage.Sqlite.Native;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>Workflows: their creation, reads and cancellation, and what a step's end does to the rest of its workflow
/// (released dependents, cancelled downstream), inside the transaction that ended the step.</summary>
internal sealed class SqliteWorkflows(SqliteDatabase db, StoreSignals signals) : IStoreWorkflows
{
    public async Task<WorkflowCreateResult> WorkflowCreateAsync(WorkflowCreateParams p, CancellationToken ct)
    {
        var wf = p.Workflow;
        using var span = Gantry.Telemetry.GantryTracing.StartEnqueue(wf.Steps.Select(s => s.Job).ToArray(), wf.Id);
        var trace = Gantry.Telemetry.GantryTracing.CurrentContext();
        var result = await db.WriteAsync(_ =>
        {
            var now = db.NowMs();
            db.Prepared(WorkflowSql.InsertWorkflow).Bind("@id", wf.Id.ToString()).Bind("@name", wf.Name)
                .Bind("@on_failure", wf.OnFailure.ToText()).Bind("@now", now).ExecuteNonQuery();
            var insert = db.Raw(JobInsert.Sql);
            var seqs = new Dictionary<string, long>(StringComparer.Ordinal);
            var steps = new WorkflowStepJob[wf.Steps.Count];
            for (var i = 0; i < wf.Steps.Count; i++)
            {
                var step = wf.Steps[i];
                var state = step.DependsOn.Count > 0 ? JobState.Waiting : JobInsert.FirstState(step.Job, now);
                JobInsert.BindJob(insert, step.Job, state, now, trace).Bind("@workflow_id", wf.Id.ToString()).Bind("@step", step.Name)
                    .Bind("@deps_left", step.DependsOn.Count).Execute();
                seqs[step.Name] = insert.LastInsertRowId;
                steps[i] = new WorkflowStepJob(step.Name, step.Job.Id, state);
            }
            // Many edges per statement: a wide fan-in has as many edges as steps.
            var edges = wf.Steps.SelectMany(step => step.DependsOn.Select(dep => (Job: seqs[step.Name], DependsOn: seqs[dep]))).ToArray();
            foreach (var chunk in edges.Chunk(EdgeChunk))
            {
                var insertEdges = db.Raw(chunk.Length == EdgeChunk ? InsertEdgesSql : InsertEdgesSqlFor(chunk.Length));
                for (var i = 0; i < chunk.Length; i++) insertEdges.Bind($"@j{i}", chunk[i].Job).Bind($"@d{i}", chunk[i].DependsOn);
                insertEdges.Execute();
            }
            return new WorkflowCreateResult(wf.Id, steps);
        }, ct).ConfigureAwait(false);
        if (result.Steps.Any(s => s.State == JobState.Queued)) signals.JobsAvailable.Set();
        if (result.Steps.Any(s => s.State == JobState.Scheduled)) signals.ScheduleChanged.Set();
        return result;
    }

    public Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct) => db.ReadAsync(c =>
    {
        // No snapshot needed: the workflow row and its edges never change, and each step is read once.
        WorkflowRecord? workflow;
        using (var cmd = Command(c, WorkflowSql.Get).Bind("@id", id.ToString()))
        using (var r = cmd.ExecuteReader())
        {
            if (!r.Read()) return null;
            workflow = new WorkflowRecord
            {
                Id = Guid.Parse(r.GetString(0)), Name = r.GetString(1), OnFailure = WorkflowOnFailures.Parse(r.GetString(2)),
                CreatedAt = r.GetTime(3), Steps = [],
            };
        }
        var steps = new List<(long Seq, WorkflowStepRecord Step)>();
        using (var cmd = Command(c, WorkflowSql.Steps).Bind("@workflow", id.ToString()))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
                steps.Add((r.GetInt64(0), new WorkflowStepRecord
                {
                    Name = r.GetString(1), JobId = Guid.Parse(r.GetString(2)), Type = r.GetString(3), State = JobStates.Parse(r.GetString(4)),
                    Attempt = r.GetInt32(5), Result = r.GetStringOrNull(6), StartedAt = r.GetTimeOrNull(7), FinishedAt = r.GetTimeOrNull(8),
                }));
        }
        var edges = new List<(long Job, long DependsOn)>();
        using (var cmd = Command(c, WorkflowSql.Edges).Bind("@workflow", id.ToString()))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read()) edges.Add((r.GetInt64(0), r.GetInt64(1)));
        }
        return workflow with { Steps = WorkflowSteps.WithEdges(steps, edges) };
    }, ct);

    public Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct) => WorkflowPages.ListAsync(p, WorkflowPageAsync, ct);

    private Task<IReadOnlyList<WorkflowSummary>> WorkflowPageAsync(Guid? before, int limit, CancellationToken ct) => db.ReadAsync<IReadOnlyList<WorkflowSummary>>(c =>
    {
        using var cmd = Command(c, WorkflowSql.List).Bind("@before", before?.ToString()).Bind("@limit", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<WorkflowSummary>();
        while (r.Read())
            list.Add(new WorkflowSummary(Guid.Parse(r.GetString(0)), r.GetString(1), WorkflowOnFailures.Parse(r.GetString(2)), r.GetTime(3),
                new StepCounts(r.GetInt32(4), r.GetInt32(5), r.GetInt32(6), r.GetInt32(7), r.GetInt32(8))));
        return list;
    }, ct);

    public async Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct)
    {
        var result = await db.WriteAsync(_ =>
        {
            if (db.Prepared("SELECT 1 FROM workflows WHERE id = @id").Bind("@id", id.ToString()).ExecuteScalar() is null)
                throw new WorkflowNotFoundException(id.ToString());
            var (cancelled, requested) = StopSteps(id.ToString(), seq: null, db.NowMs());
            return new WorkflowCancelResult(id, cancelled, requested);
        }, ct).ConfigureAwait(false);
        if (result.Requested > 0) signals.CommandsAvailable.Set();
        return result;
    }

    /// <summary>
    /// After steps succeeded (inside the transaction of their reports): each dependent's count of pending
    /// dependencies goes down by how many of them it depends on, and those at zero are queued. Counted per
    /// dependent first, so that a wide fan-in's dependent is updated once per batch, not once per success.
    /// </summary>
    public void ReleaseDependents(List<long> succeededSteps)
    {
        if (succeededSteps.Count == 0) return;
        var dependents = new SortedDictionary<long, long>();
        foreach (var chunk in succeededSteps.Chunk(SeqChunk))
        {
            var query = BindChunk(db.Raw(DependentsOfSql), chunk);
            try
            {
                while (query.Step()) dependents[query.GetInt64(0)] = dependents.GetValueOrDefault(query.GetInt64(0)) + query.GetInt64(1);
            }
            finally
            {
                query.Reset();
            }
        }
        // Dependents released by as many successes go together (a fan-out's root releases all of its own at once).
        var release = db.Raw(ReleaseSql);
        var queued = false;
        foreach (var group in dependents.GroupBy(d => d.Value))
        {
            foreach (var chunk in group.Select(d => d.Key).Chunk(SeqChunk))
            {
                BindChunk(release, chunk).Bind("@n", group.Key);
                try
                {
                    while (release.Step()) queued |= release.GetInt64(0) == 1;
                }
                finally
                {
                    release.Reset();
                }
            }
        }
        if (queued) signals.JobsAvailable.Set();
    }

    /// <summary>
    /// After a job ended dead or cancelled (inside the transaction that ended it): when it is a workflow step,
    /// its downstream is cancelled, or with on_failure = cancel every unfinished step of its workflow.
    /// </summary>
    public void StepStopped(long seq, long now)
    {
        string workflowId, onFailure;
        using (var r = db.Prepared(WorkflowSql.WorkflowOf).Bind("@seq", seq).ExecuteReader())
        {
            if (!r.Read()) return;
            (workflowId, onFailure) = (r.GetString(0), r.GetString(1));
        }
        var downstreamOnly = WorkflowOnFailures.Parse(onFailure) == WorkflowOnFailure.Continue;
        var (_, requested) = StopSteps(workflowId, downstreamOnly ? seq : null, now);
        if (requested > 0) signals.CommandsAvailable.Set();
    }

    /// <summary>Cancels the unfinished steps of a workflow, or only those downstream of <paramref name="seq"/>; returns how many ended and how many were asked to stop.</summary>
    private (int Cancelled, int Requested) StopSteps(string workflowId, long? seq, long now)
    {
        var downstreamOnly = seq is not null;
        SqliteCommand InScope(string sql) => (downstreamOnly ? db.Prepared(sql).Bind("@seq", seq) : db.Prepared(sql).Bind("@workflow", workflowId)).Bind("@now", now);
        var cancelled = 0;
        using (var r = InScope(WorkflowSql.CancelSteps(downstreamOnly)).ExecuteReader())
        {
            while (r.Read()) cancelled++;
        }
        var running = new List<(string Id, string? Worker)>();
        using (var r = InScope(WorkflowSql.RequestCancel(downstreamOnly)).ExecuteReader())
        {
            while (r.Read()) running.Add((r.GetString(0), r.GetStringOrNull(1)));
        }
        var command = db.Prepared(WorkflowSql.InsertCancelCommand);
        foreach (var (id, worker) in running)
            command.Bind("@worker", worker).Bind("@id", id).Bind("@now", now).ExecuteNonQuery();
        return (cancelled, running.Count);
    }

    /// <summary>The results of claimed steps' dependencies, by step name, per step row key (inside the claim's transaction).</summary>
    public Dictionary<long, Dictionary<string, string?>> DependencyResults(IReadOnlyList<long> steps)
    {
        var results = steps.ToDictionary(s => s, _ => new Dictionary<string, string?>(StringComparer.Ordinal));
        foreach (var chunk in steps.Chunk(SeqChunk))
        {
            var query = BindChunk(db.Raw(DependencyResultsSql), chunk);
            try
            {
                while (query.Step()) results[query.GetInt64(0)][query.GetString(1)] = query.GetStringOrNull(2);
            }
            finally
            {
                query.Reset();
            }
        }
        return results;
    }

    // Sets of row keys go as a fixed list of parameters (one prepared statement, unused ones left NULL, which
    // match nothing): a statement per key would cost a wide fan-in one execution per step.
    private const int SeqChunk = 64;
    private static readonly string SeqParameters = string.Join(", ", Enumerable.Range(0, SeqChunk).Select(i => $"@k{i}"));
    private static readonly string ReleaseSql = WorkflowSql.Release($"seq IN ({SeqParameters})");
    private static readonly string DependentsOfSql = WorkflowSql.DependentsOf($"depends_on_seq IN ({SeqParameters})");
    private static readonly string DependencyResultsSql = WorkflowSql.DependencyResults($"d.job_seq IN ({SeqParameters})");

    private const int EdgeChunk = 32;
    private static readonly string InsertEdgesSql = InsertEdgesSqlFor(EdgeChunk);

    private static string InsertEdgesSqlFor(int n) =>
        $"INSERT INTO job_dependencies (job_seq, depends_on_seq) VALUES {string.Join(", ", Enumerable.Range(0, n).Select(i => $"(@j{i}, @d{i})"))}";

    private static RawStatement BindChunk(RawStatement statement, long[] keys)
    {
        for (var i = 0; i < keys.Length; i++) statement.Bind($"@k{i}", keys[i]);
        return statement;
    }

    private static SqliteCommand Command(SqliteConnection c, string sql)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd;
    }
}
