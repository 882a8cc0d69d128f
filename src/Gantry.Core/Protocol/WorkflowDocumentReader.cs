using System.Text.Json;

namespace Gantry.Protocol;

/// <summary>
/// Reads a workflow document (docs/workflows.md): a name, an optional <c>on_failure</c>, and
/// <c>steps</c> — an object of step name to job document, or an array of job documents each with a
/// <c>name</c> — where each job document may add <c>depends_on</c>. Errors name the step and field.
/// </summary>
public static class WorkflowDocumentReader
{
    /// <summary>The fields of a workflow document.</summary>
    public static readonly IReadOnlyList<string> Fields = ["version", "name", "on_failure", "steps"];

    private static readonly string[] StepFields = ["depends_on"];
    private static readonly string[] ArrayStepFields = ["name", "depends_on"];

    /// <summary>Parses and validates a workflow.</summary>
    public static Workflows.NewWorkflow Read(string text, string source, JobLimits limits, TimeProvider? time = null) =>
        ReadDraft(text, source, limits).Validate(limits, source, time);

    /// <summary>Parses the document without validating it.</summary>
    public static WorkflowDraft ReadDraft(string text, string source, JobLimits limits)
    {
        if (text.AsSpan().Trim().IsEmpty) throw new InvalidInputException(source, "is empty");
        using var doc = JobDocumentReader.Parse(text, source, new JsonDocumentOptions { MaxDepth = limits.MaxDepth });
        return FromElement(doc.RootElement, source);
    }

    /// <summary>Reads one workflow object; unknown fields are rejected by name.</summary>
    public static WorkflowDraft FromElement(JsonElement root, string source)
    {
        string At(string field) => string.IsNullOrEmpty(source) ? field : $"{source} {field}";
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidInputException(source, $"a workflow document must be a JSON object, got {JobDocumentReader.Describe(root.ValueKind)}");
        var draft = new WorkflowDraft();
        var sawSteps = false;
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "version":
                    if (p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() != JobDocumentReader.Version : p.Value.GetRawText() != JobDocumentReader.Version)
                        throw new InvalidInputException(At("version"), $"unsupported protocol version {p.Value.GetRawText()} (this Gantry reads version \"{JobDocumentReader.Version}\")");
                    break;
                case "name": draft = draft with { Name = JobDocumentReader.String(p.Value, At("name")) }; break;
                case "on_failure" when p.Value.ValueKind == JsonValueKind.Null: break; // not given
                case "on_failure": draft = draft with { OnFailure = JobDocumentReader.String(p.Value, At("on_failure")) }; break;
                case "steps": draft = draft with { Steps = Steps(p.Value, At("steps"), At) }; sawSteps = true; break;
                default:
                    throw new InvalidInputException(source, $"unknown field '{p.Name}' (known fields: {string.Join(", ", Fields)})", At(p.Name));
            }
        }
        if (!sawSteps) throw new InvalidInputException(At("steps"), "is required: an object of step name to job document (with depends_on)");
        return draft;
    }

    private static List<WorkflowStepDraft> Steps(JsonElement value, string at, Func<string, string> where)
    {
        var steps = new List<WorkflowStepDraft>();
        if (value.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in value.EnumerateObject())
                steps.Add(Step(p.Name, p.Value, where($"steps.{p.Name}"), StepFields));
            return steps;
        }
        if (value.ValueKind != JsonValueKind.Array)
            throw new InvalidInputException(at, $"expected an object of step name to job document, got {JobDocumentReader.Describe(value.ValueKind)}");
        var i = 0;
        foreach (var element in value.EnumerateArray())
        {
            var place = where($"steps[{i++}]");
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("name", out var name))
                throw new InvalidInputException(place, "a step in an array needs a \"name\"");
            var stepName = JobDocumentReader.String(name, $"{place}.name");
            steps.Add(Step(stepName, element, where($"steps.{stepName}"), ArrayStepFields));
        }
        return steps;
    }

    private static WorkflowStepDraft Step(string name, JsonElement element, string where, string[] extraFields)
    {
        var job = JobDocumentReader.FromElement(element, where, extraFields);
        IReadOnlyList<string> deps = element.TryGetProperty("depends_on", out var d) && d.ValueKind != JsonValueKind.Null
            ? JobDocumentReader.Strings(d, $"{where}.depends_on")
            : [];
        return new WorkflowStepDraft(name, job, deps);
    }
}
