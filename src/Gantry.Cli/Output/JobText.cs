using System.Text;
using Gantry.Jobs;

namespace Gantry.Cli.Output;

/// <summary>Jobs as text for people.</summary>
internal static class JobText
{
    public static string Show(JobRecord j, DateTimeOffset now)
    {
        var sb = new StringBuilder();
        void Line(string label, string? value) { if (!string.IsNullOrEmpty(value)) sb.Append("  ").Append(label.PadRight(12)).AppendLine(Printable(value)); }

        sb.AppendLine($"job {j.Id}");
        Line("type", j.Type);
        Line("queue", $"{j.Queue} (priority {j.Priority})");
        if (j.WorkflowId is { } workflow) Line("workflow", $"{workflow}, step {j.Step} (gantry workflows show {workflow})");
        Line("state", j.State.ToText() + (j.CancelRequestedAt is not null && j.State == JobState.Running ? " (cancellation requested)" : ""));
        Line("attempt", $"{j.Attempt} of {j.MaxAttempts}");
        if (j.Progress is { } p) Line("progress", $"{p:0.#}%{(j.ProgressMessage is { } m ? $"  {m}" : "")}");
        Line("created", When(j.CreatedAt, now));
        if (j.RunAt is { } runAt && j.State == JobState.Scheduled) Line("runs at", When(runAt, now));
        if (j.StartedAt is { } s) Line("started", When(s, now));
        if (j.FinishedAt is { } f) Line("finished", When(f, now));
        if (j.Timeout is { } t) Line("timeout", $"{t.TotalSeconds:0.###}s");
        if (j.WorkerId is { } w) Line("worker", w + (j.State == JobState.Running && j.LeaseUntil is { } l ? $" (lease until {l:HH:mm:ss})" : ""));
        Line("key", j.IdempotencyKey);
        if (j.IdempotencyKey is not null && (j.UniqueUntil is not null || j.UniqueWhile is not null))
            Line("unique", string.Join(", ", new[]
            {
                j.UniqueUntil is { } until ? $"until {When(until, now)}" : null,
                j.UniqueWhile is { } states ? $"while {string.Join(" or ", states.Select(s => s.ToText()))}" : null,
            }.Where(x => x is not null)));
        Line("concurrency", j.ConcurrencyKey is { } ckey ? $"key {ckey}" : null);
        Line("trace", Gantry.Telemetry.GantryTracing.TraceId(j.TraceParent));
        if (j.Tags.Count > 0) Line("tags", string.Join(", ", j.Tags.Select(kv => $"{kv.Key}={kv.Value}")));
        if (j.RequiredCapabilities.Count > 0) Line("requires", string.Join(", ", j.RequiredCapabilities));
        if (j.CheckpointSize is { } size) Line("checkpoint", $"{size:N0} bytes, saved {(j.CheckpointAt is { } at ? When(at, now) : "")}");
        if (j.Limits?.ToJson() is { } limits) Line("limits", limits);
        Line("payload", Clip(j.Payload, 2000));
        if (j.Result is not null) Line("result", Clip(j.Result, 4000));
        if (j.Usage.Count > 0)
        {
            sb.AppendLine("  attempts");
            foreach (var u in j.Usage) sb.AppendLine($"    attempt {u.Attempt}: {u.Usage}");
        }
        if (j.Errors.Count > 0)
        {
            sb.AppendLine("  errors");
            foreach (var e in j.Errors)
            {
                sb.AppendLine(Printable($"    attempt {e.Attempt} at {e.At:yyyy-MM-dd HH:mm:ss}Z: {e.Error.Kind}{(e.Error.Type is { } type ? $" {type}" : "")}: {e.Error.Message}"));
                if (e.Error.StackTrace is { Length: > 0 } stack)
                    foreach (var line in stack.Split('\n').Take(12)) sb.AppendLine("      " + Printable(line.Trim()));
            }
        }
        return sb.ToString();
    }

    public static string List(IReadOnlyList<JobRecord> jobs, DateTimeOffset now)
    {
        if (jobs.Count == 0) return "no jobs\n";
        var rows = jobs.Select(j => new[]
        {
            j.Id.ToString(), j.Type, j.Queue, j.State.ToText(), $"{j.Attempt}/{j.MaxAttempts}",
            j.Progress is { } p && j.State == JobState.Running ? $"{p:0}%" : "", Ago(j.CreatedAt, now),
        }).ToList();
        return Table(["ID", "TYPE", "QUEUE", "STATE", "ATTEMPT", "PROGRESS", "CREATED"], rows);
    }

    /// <summary>Text a submitter or a handler chose (a key, a tag, a message), as one line that cannot drive the terminal:
    /// each control character written as an escape (<c>\n</c>, <c>\t</c>, <c>\x1b</c>), so that a newline cannot forge a
    /// line of output nor an escape sequence recolour or rewrite the screen.</summary>
    public static string Printable(string text)
    {
        if (!text.Any(char.IsControl)) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text)
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    public static string Table(string[] header, IReadOnlyList<string[]> rows)
    {
        rows = [.. rows.Select(r => r.Select(Printable).ToArray())];
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var sb = new StringBuilder();
        void Row(string[] cells) => sb.AppendLine(string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd());
        Row(header);
        foreach (var r in rows) Row(r);
        return sb.ToString();
    }

    public static string When(DateTimeOffset t, DateTimeOffset now) => $"{t.UtcDateTime:yyyy-MM-dd HH:mm:ss.fff}Z ({Ago(t, now)})";

    public static string Ago(DateTimeOffset t, DateTimeOffset now)
    {
        var d = now - t;
        var future = d < TimeSpan.Zero;
        if (future) d = -d;
        var text = d.TotalSeconds < 1 ? "just now"
            : d.TotalSeconds < 60 ? $"{d.TotalSeconds:0}s"
            : d.TotalMinutes < 60 ? $"{d.TotalMinutes:0}m"
            : d.TotalHours < 48 ? $"{d.TotalHours:0}h"
            : $"{d.TotalDays:0}d";
        return text == "just now" ? text : future ? $"in {text}" : $"{text} ago";
    }

    private static string Clip(string s, int max) => s.Length <= max ? s : s[..max] + $"… ({s.Length:N0} characters)";
}
