using Gantry.Jobs;
using Gantry.Workflows;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

public sealed partial class SqliteJobStore
{
    public async Task<WorkflowCreateResult> WorkflowCreateAsync(WorkflowCreateParams p, CancellationToken ct)
    {
        var wf = p.Workflow;
        var result = await WriteAsync(_ =>
        {
            var now = NowMs();
            Prepared(WorkflowSql.InsertWorkflow).Bind("@id", wf.Id.ToString()).Bind("@name", wf.Name)
                .Bind("@on_failure", wf.OnFailure.ToText()).Bind("@now", now).ExecuteNonQuery();
            var insert = Raw(InsertJobSql);
            var seqs = new Dictionary<string, long>(StringComparer.Ordinal);
            var steps = new WorkflowStepJob[wf.Steps.Count];
            for (var i = 0; i < wf.Steps.Count; i++)
            {
                var step = wf.Steps[i];
                var state = step.DependsOn.Count > 0 ? JobState.Waiting : FirstState(step.Job, now);
                BindJob(insert, step.Job, state, now).Bind("@workflow_id", wf.Id.ToString()).Bind("@step", step.Name)
                    .Bind("@deps_left", step.DependsOn.Count).Execute();
                seqs[step.Name] = insert.LastInsertRowId;
                steps[i] = new WorkflowStepJob(step.Name, step.Job.Id, state);
            }
            // Raw statements: a wide fan-in has as many edges as steps, and each costs ADO.NET's overhead otherwise.
            var edge = Raw(WorkflowSql.InsertEdge);
            foreach (var step in wf.Steps)
                foreach (var dep in step.DependsOn)
                    edge.Bind("@job", seqs[step.Name]).Bind("@depends_on", seqs[dep]).Execute();
            return new WorkflowCreateResult(wf.Id, steps);
        }, ct).ConfigureAwait(false);
        if (result.Steps.Any(s => s.State == JobState.Queued)) Signals.JobsAvailable.Set();
        if (result.Steps.Any(s => s.State == JobState.Scheduled)) Signals.ScheduleChanged.Set();
        return result;
    }

    public Task<WorkflowRecord?> WorkflowGetAsync(Guid id, CancellationToken ct) => ReadAsync(c =>
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

    public Task<IReadOnlyList<WorkflowSummary>> WorkflowListAsync(WorkflowListParams p, CancellationToken ct) => ReadAsync<IReadOnlyList<WorkflowSummary>>(c =>
    {
        using var cmd = Command(c, WorkflowSql.List(p.State)).Bind("@before", p.Before?.ToString()).Bind("@limit", p.Limit);
        using var r = cmd.ExecuteReader();
        var list = new List<WorkflowSummary>();
        while (r.Read())
            list.Add(new WorkflowSummary(Guid.Parse(r.GetString(0)), r.GetString(1), WorkflowOnFailures.Parse(r.GetString(2)), r.GetTime(3),
                new StepCounts(r.GetInt32(4), r.GetInt32(5), r.GetInt32(6), r.GetInt32(7), r.GetInt32(8))));
        return list;
    }, ct);

    public async Task<WorkflowCancelResult> WorkflowCancelAsync(Guid id, CancellationToken ct)
    {
        var result = await WriteAsync(_ =>
        {
            if (Prepared("SELECT 1 FROM workflows WHERE id = @id").Bind("@id", id.ToString()).ExecuteScalar() is null)
                throw new WorkflowNotFoundException(id.ToString());
            var (cancelled, requested) = StopSteps(id.ToString(), seq: null, NowMs());
            return new WorkflowCancelResult(id, cancelled, requested);
        }, ct).ConfigureAwait(false);
        if (result.Requested > 0) Signals.CommandsAvailable.Set();
        return result;
    }

    /// <summary>
    /// After a step succeeded (inside its transaction): each dependent's count of pending dependencies goes
    /// down, and those at zero are queued. Called only for workflow steps.
    /// </summary>
    private void ReleaseDependents(long seq)
    {
        var release = Raw(WorkflowSql.Release).Bind("@seq", seq);
        var queued = false;
        try
        {
            while (release.Step()) queued |= release.GetInt64(0) == 1;
        }
        finally
        {
            release.Reset();
        }
        if (queued) Signals.JobsAvailable.Set();
    }

    /// <summary>
    /// After a job ended dead or cancelled (inside the transaction that ended it): when it is a workflow step,
    /// its downstream is cancelled, or with on_failure = cancel every unfinished step of its workflow.
    /// </summary>
    private void StepStopped(long seq, long now)
    {
        string workflowId, onFailure;
        using (var r = Prepared(WorkflowSql.WorkflowOf).Bind("@seq", seq).ExecuteReader())
        {
            if (!r.Read()) return;
            (workflowId, onFailure) = (r.GetString(0), r.GetString(1));
        }
        var downstreamOnly = WorkflowOnFailures.Parse(onFailure) == WorkflowOnFailure.Continue;
        var (_, requested) = StopSteps(workflowId, downstreamOnly ? seq : null, now);
        if (requested > 0) Signals.CommandsAvailable.Set();
    }

    /// <summary>Cancels the unfinished steps of a workflow, or only those downstream of <paramref name="seq"/>; returns how many ended and how many were asked to stop.</summary>
    private (int Cancelled, int Requested) StopSteps(string workflowId, long? seq, long now)
    {
        var downstreamOnly = seq is not null;
        SqliteCommand InScope(string sql) => (downstreamOnly ? Prepared(sql).Bind("@seq", seq) : Prepared(sql).Bind("@workflow", workflowId)).Bind("@now", now);
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
        var command = Prepared(WorkflowSql.InsertCancelCommand);
        foreach (var (id, worker) in running)
            command.Bind("@worker", worker).Bind("@id", id).Bind("@now", now).ExecuteNonQuery();
        return (cancelled, running.Count);
    }

    /// <summary>The results of a claimed step's dependencies, by step name (inside the claim's transaction).</summary>
    private Dictionary<string, string?> DependencyResults(long seq)
    {
        var results = new Dictionary<string, string?>(StringComparer.Ordinal);
        var query = Raw(WorkflowSql.DependencyResults).Bind("@seq", seq);
        try
        {
            while (query.Step()) results[query.GetString(0)] = query.GetStringOrNull(1);
        }
        finally
        {
            query.Reset();
        }
        return results;
    }

    private static SqliteCommand Command(SqliteConnection c, string sql)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd;
    }
}
