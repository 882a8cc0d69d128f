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
    /// <summary>The text of <see cref="WorkflowOnFailure.Cancel"/>.</summary>
    public const string Cancel = "cancel";
    /// <summary>The text of <see cref="WorkflowOnFailure.Continue"/>.</summary>
    public const string Continue = "continue";

    /// <summary>The text form of <paramref name="value"/>: <c>cancel</c> or <c>continue</c>.</summary>
    public static string ToText(this WorkflowOnFailure value) => value == WorkflowOnFailure.Continue ? Continue : Cancel;

    /// <summary>Reads <c>cancel</c> or <c>continue</c> (any case, trimmed); false for anything else.</summary>
    public static bool TryParse(string? text, out WorkflowOnFailure value)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case Cancel: value = WorkflowOnFailure.Cancel; return true;
            case Continue: value = WorkflowOnFailure.Continue; return true;
            default: value = default; return false;
        }
    }

    /// <summary>As <see cref="TryParse"/>, for stored text: anything else throws <see cref="FormatException"/>.</summary>
    public static WorkflowOnFailure Parse(string text) =>
        TryParse(text, out var v) ? v : throw new FormatException($"unknown on_failure '{text}'");
}
