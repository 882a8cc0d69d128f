using System.Text;
using Gantry.Jobs;
using Gantry.Workflows;

namespace Gantry.Cli.Output;

/// <summary>Workflows as text for people: a list, and the graph of one drawn by layers.</summary>
internal static class WorkflowText
{
    /// <summary>
    /// The graph by layers: steps without dependencies first, then each step indented one level deeper
    /// than its deepest dependency, with an arrow from the steps it waits for.
    /// <code>
    /// fetch         succeeded
    /// └─▶ left      succeeded   ◀ fetch
    /// └─▶ right     dead        ◀ fetch
    ///     └─▶ merge cancelled   ◀ left, right
    /// </code>
    /// </summary>
    public static string Show(WorkflowRecord w, DateTimeOffset now)
    {
        var sb = new StringBuilder();
        var counts = StepCounts.Of(w.Steps.Select(s => s.State));
        sb.AppendLine($"workflow {w.Id}  {w.Name}");
        sb.AppendLine($"  state       {w.State.ToText()} ({Counts(counts)})");
        sb.AppendLine($"  on failure  {w.OnFailure.ToText()}");
        sb.AppendLine($"  created     {JobText.When(w.CreatedAt, now)}");
        sb.AppendLine();

        var layers = WorkflowGraph.Layers(w.Steps.Select(s => s.Name).ToArray(), w.Steps.ToDictionary(s => s.Name, s => s.DependsOn));
        var ordered = w.Steps.OrderBy(s => layers[s.Name]).ToArray(); // stable: document order within a layer
        var labels = ordered.Select(s => Indent(layers[s.Name]) + s.Name).ToArray();
        var width = labels.Max(l => l.Length);
        var stateWidth = ordered.Max(s => s.State.ToText().Length);
        for (var i = 0; i < ordered.Length; i++)
        {
            var s = ordered[i];
            var line = $"{labels[i].PadRight(width)}  {Mark(s.State)} {s.State.ToText().PadRight(stateWidth)}  {s.Type,-10} {s.JobId}";
            if (s.DependsOn.Count > 0) line += $"  ◀ {string.Join(", ", s.DependsOn)}";
            sb.AppendLine(line.TrimEnd());
        }
        return sb.ToString();
    }

    private static string Indent(int layer) => layer == 0 ? "" : new string(' ', 4 * (layer - 1)) + "└─▶ ";

    private static string Mark(JobState state) => state switch
    {
        JobState.Succeeded => "✓",
        JobState.Dead => "✗",
        JobState.Cancelled => "⊘",
        JobState.Running => "▶",
        _ => "·",
    };

    private static string Counts(StepCounts c)
    {
        var parts = new List<string> { $"{c.Total} step{(c.Total == 1 ? "" : "s")}" };
        if (c.Succeeded > 0) parts.Add($"{c.Succeeded} succeeded");
        if (c.Unfinished > 0) parts.Add($"{c.Unfinished} unfinished");
        if (c.Dead > 0) parts.Add($"{c.Dead} dead");
        if (c.Cancelled > 0) parts.Add($"{c.Cancelled} cancelled");
        return string.Join(", ", parts);
    }

    public static string List(IReadOnlyList<WorkflowSummary> workflows, DateTimeOffset now)
    {
        if (workflows.Count == 0) return "no workflows\n";
        var rows = workflows.Select(w => new[]
        {
            w.Id.ToString(), w.Name, w.State.ToText(), $"{w.Steps.Succeeded}/{w.Steps.Total}",
            w.Steps.Dead > 0 ? $"{w.Steps.Dead}" : "", w.Steps.Cancelled > 0 ? $"{w.Steps.Cancelled}" : "", JobText.Ago(w.CreatedAt, now),
        }).ToList();
        return JobText.Table(["ID", "NAME", "STATE", "SUCCEEDED", "DEAD", "CANCELLED", "CREATED"], rows);
    }
}
