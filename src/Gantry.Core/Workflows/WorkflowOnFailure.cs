namespace Gantry.Workflows;

/// <summary>What a workflow does when one of its steps ends without succeeding (dead, or cancelled).</summary>
public enum WorkflowOnFailure
{
    /// <summary>The default: every unfinished step of the workflow is cancelled; the workflow has failed.</summary>
    Cancel,
    /// <summary>Only the steps downstream of the failed one are cancelled; independent branches run on.</summary>
    Continue,
}

/// <summary>Text forms of <see cref="WorkflowOnFailure"/>, as written in documents and stored.</summary>
public static class WorkflowOnFailures
{
    public const string Cancel = "cancel";
    public const string Continue = "continue";

    public static string ToText(this WorkflowOnFailure value) => value == WorkflowOnFailure.Continue ? Continue : Cancel;

    public static bool TryParse(string? text, out WorkflowOnFailure value)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case Cancel: value = WorkflowOnFailure.Cancel; return true;
            case Continue: value = WorkflowOnFailure.Continue; return true;
            default: value = default; return false;
        }
    }

    public static WorkflowOnFailure Parse(string text) =>
        TryParse(text, out var v) ? v : throw new FormatException($"unknown on_failure '{text}'");
}
