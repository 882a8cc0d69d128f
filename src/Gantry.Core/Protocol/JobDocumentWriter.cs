using System.Globalization;
using System.Text.Json;

namespace Gantry.Protocol;

/// <summary>
/// Writes a <see cref="JobDraft"/> back as a v1 job document, the form <see cref="JobDocumentReader"/>
/// reads: what a client sends to a server. Only the fields the draft sets are written.
/// </summary>
public static class JobDocumentWriter
{
    /// <summary>Writes <paramref name="d"/> to <paramref name="w"/> as one JSON object, with only the fields it sets.</summary>
    public static void Write(Utf8JsonWriter w, JobDraft d)
    {
        w.WriteStartObject();
        w.WriteString("version", JobDocumentReader.Version);
        WriteFields(w, d);
        w.WriteEndObject();
    }

    /// <summary>The draft's fields into an object already open (a workflow step adds its own).</summary>
    public static void WriteFields(Utf8JsonWriter w, JobDraft d)
    {
        if (d.Type is not null) w.WriteString("type", d.Type);
        if (d.Payload is not null) { w.WritePropertyName("payload"); w.WriteRawValue(d.Payload); }
        if (d.Queue is not null) w.WriteString("queue", d.Queue);
        if (d.Priority is { } priority) w.WriteNumber("priority", priority);
        if (d.RunAt is { } runAt) w.WriteString("run_at", runAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        if (d.TimeoutSeconds is { } timeout) w.WriteNumber("timeout_seconds", timeout);
        if (d.MaxAttempts is { } maxAttempts) w.WriteNumber("max_attempts", maxAttempts);
        if (d.BackoffBaseSeconds is not null || d.BackoffMaxSeconds is not null)
        {
            w.WriteStartObject("backoff");
            if (d.BackoffBaseSeconds is { } b) w.WriteNumber("base_seconds", b);
            if (d.BackoffMaxSeconds is { } m) w.WriteNumber("max_seconds", m);
            w.WriteEndObject();
        }
        if (d.IdempotencyKey is not null) w.WriteString("idempotency_key", d.IdempotencyKey);
        if (d.Tags is { Count: > 0 } tags)
        {
            w.WriteStartObject("tags");
            foreach (var (k, v) in tags) w.WriteString(k, v);
            w.WriteEndObject();
        }
        if (d.RequiredCapabilities is { Count: > 0 } caps)
        {
            w.WriteStartArray("required_capabilities");
            foreach (var c in caps) w.WriteStringValue(c);
            w.WriteEndArray();
        }
        if (d.CheckpointIntervalSeconds is { } interval) w.WriteNumber("checkpoint_interval_seconds", interval);
        if (d.ConcurrencyKey is not null) w.WriteString("concurrency_key", d.ConcurrencyKey);
        if (d.UniqueForSeconds is { } uniqueFor) w.WriteNumber("unique_for", uniqueFor);
        if (d.Limits is { IsEmpty: false } limits)
        {
            w.WriteStartObject("limits");
            limits.WriteFields(w);
            w.WriteEndObject();
        }
        if (d.UniqueWhile is { Count: > 0 } uniqueWhile)
        {
            w.WriteStartArray("unique_while");
            foreach (var s in uniqueWhile) w.WriteStringValue(s);
            w.WriteEndArray();
        }
    }

    /// <summary>A workflow as the document <see cref="WorkflowDocumentReader"/> reads (steps as an array, each with its name).</summary>
    public static string WriteWorkflow(WorkflowDraft workflow)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (workflow.Name is not null) w.WriteString("name", workflow.Name);
            if (workflow.OnFailure is not null) w.WriteString("on_failure", workflow.OnFailure);
            w.WriteStartArray("steps");
            foreach (var step in workflow.Steps)
            {
                w.WriteStartObject();
                w.WriteString("name", step.Name);
                if (step.DependsOn.Count > 0)
                {
                    w.WriteStartArray("depends_on");
                    foreach (var dep in step.DependsOn) w.WriteStringValue(dep);
                    w.WriteEndArray();
                }
                WriteFields(w, step.Job);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The drafts as one JSON array.</summary>
    public static byte[] WriteArray(IEnumerable<JobDraft> drafts)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var d in drafts) Write(w, d);
            w.WriteEndArray();
        }
        return buffer.ToArray();
    }
}
