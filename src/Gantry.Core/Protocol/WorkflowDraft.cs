using Gantry.Workflows;

namespace Gantry.Protocol;

/// <summary>
/// A workflow as a user described it, before validation. Every rule about a workflow lives in
/// <see cref="Validate"/>: a name, at least one step, unique step names, dependencies that name
/// steps of the workflow and form no cycle, and each step a valid job (<see cref="JobDraft.Validate"/>).
/// </summary>
public sealed record WorkflowDraft
{
    /// <summary><c>name</c>: the workflow's name, at most <see cref="MaxWorkflowNameLength"/> characters. Required.</summary>
    public string? Name { get; init; }
    /// <summary><c>on_failure</c>: <c>cancel</c> (when null) or <c>continue</c>.</summary>
    public string? OnFailure { get; init; }
    /// <summary><c>steps</c>: at least one.</summary>
    public IReadOnlyList<WorkflowStepDraft> Steps { get; init; } = [];

    /// <summary>Longest workflow name: 200 characters.</summary>
    public const int MaxWorkflowNameLength = 200;

    /// <summary>Checks the workflow and every step and builds it; nothing is returned unless all is valid.</summary>
    /// <param name="where">Names the input in errors (a file name, "body"); may be empty.</param>
    public NewWorkflow Validate(JobLimits limits, string where, TimeProvider? time = null)
    {
        string At(string field) => string.IsNullOrEmpty(where) ? field : $"{where} {field}";

        var name = Name?.Trim();
        if (string.IsNullOrEmpty(name)) throw new InvalidInputException(At("name"), "is required (it names the workflow in lists)");
        if (name.Length > MaxWorkflowNameLength) throw new InvalidInputException(At("name"), $"is longer than {MaxWorkflowNameLength} characters");

        var onFailure = WorkflowOnFailure.Cancel;
        if (OnFailure is not null && !WorkflowOnFailures.TryParse(OnFailure, out onFailure))
            throw new InvalidInputException(At("on_failure"), $"'{OnFailure}' is not a failure rule (cancel: stop the whole workflow, the default; continue: stop only the steps downstream)");

        if (Steps.Count == 0) throw new InvalidInputException(At("steps"), "holds no step (a workflow needs at least one)");
        if (Steps.Count > limits.MaxBatch) throw new InvalidInputException(At("steps"), $"holds {Steps.Count:N0} steps, over the limit of {limits.MaxBatch:N0}");

        var dependsOn = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var step in Steps)
        {
            var at = At($"steps.{step.Name}");
            JobDraft.CheckName(step.Name, At("steps"));
            if (dependsOn.ContainsKey(step.Name)) throw new InvalidInputException(At("steps"), $"duplicate step name '{step.Name}'");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var dep in step.DependsOn)
                if (!seen.Add(dep)) throw new InvalidInputException($"{at}.depends_on", $"lists '{dep}' twice");
            dependsOn[step.Name] = step.DependsOn;
        }
        foreach (var step in Steps)
            foreach (var dep in step.DependsOn)
                if (!dependsOn.ContainsKey(dep))
                    throw new InvalidInputException(At($"steps.{step.Name}.depends_on"), $"unknown step '{dep}' (steps: {string.Join(", ", dependsOn.Keys)})");

        var names = Steps.Select(s => s.Name).ToArray();
        if (WorkflowGraph.FindCycle(names, dependsOn) is { } cycle)
            throw new InvalidInputException(At("steps"), $"cycle: {string.Join(" → ", cycle)} (a step cannot depend on itself, directly or through others)");

        var steps = new NewWorkflowStep[Steps.Count];
        for (var i = 0; i < Steps.Count; i++)
        {
            var step = Steps[i];
            var at = At($"steps.{step.Name}");
            // A step is one job of this workflow: an idempotency key would hand back a job of another.
            if (step.Job.IdempotencyKey is not null) throw new InvalidInputException($"{at}.idempotency_key", "is not allowed on a workflow step");
            // A step with dependencies is queued when they succeed; a start time would be a second, conflicting trigger.
            if (step.Job.RunAt is not null && step.DependsOn.Count > 0)
                throw new InvalidInputException($"{at}.run_at", "is allowed only on a step without dependencies");
            steps[i] = new NewWorkflowStep(step.Name, step.Job.Validate(limits, at, time), step.DependsOn);
        }
        return new NewWorkflow { Id = Jobs.JobIds.New(time), Name = name, OnFailure = onFailure, Steps = steps };
    }
}

/// <summary>One step as described: its name, its job document and the names of the steps it depends on.</summary>
public sealed record WorkflowStepDraft(string Name, JobDraft Job, IReadOnlyList<string> DependsOn);
