using Gantry.Jobs;
using Gantry.Protocol;
using Gantry.Workflows;

namespace Gantry.Core.Tests.Protocol;

/// <summary>Workflow documents: structure, the DAG rules, and each step's job rules, every error naming its place.</summary>
public sealed class WorkflowDocumentReaderTests
{
    private static NewWorkflow Read(string text) => WorkflowDocumentReader.Read(text, "flow.json", JobLimits.Default);

    private static string Rejected(string text) =>
        Assert.Throws<InvalidInputException>(() => Read(text)).Message;

    [Fact]
    public void Read_StepsAsObject_NamesDependenciesAndJobsRead()
    {
        var flow = Read("""
            {"name":" nightly ","on_failure":"continue","steps":{
              "fetch":{"type":"echo","payload":{"url":"x"},"queue":"io"},
              "a":{"type":"echo","depends_on":["fetch"]},
              "b":{"type":"echo","depends_on":["fetch"],"max_attempts":2},
              "merge":{"type":"echo","depends_on":["a","b"]}}}
            """);

        Assert.Equal("nightly", flow.Name);
        Assert.Equal(WorkflowOnFailure.Continue, flow.OnFailure);
        Assert.Equal(["fetch", "a", "b", "merge"], flow.Steps.Select(s => s.Name));
        Assert.Equal(["a", "b"], flow.Steps[3].DependsOn);
        Assert.Equal("io", flow.Steps[0].Job.Queue);
        Assert.Equal("""{"url":"x"}""", flow.Steps[0].Job.Payload);
        Assert.Equal(2, flow.Steps[2].Job.MaxAttempts);
        Assert.Equal(4, flow.Steps.Select(s => s.Job.Id).Distinct().Count());
    }

    [Fact]
    public void Read_StepsAsArrayWithNames_SameAsObject()
    {
        var flow = Read("""{"name":"n","steps":[{"name":"a","type":"echo"},{"name":"b","type":"echo","depends_on":["a"]}]}""");

        Assert.Equal(WorkflowOnFailure.Cancel, flow.OnFailure);
        Assert.Equal(["a"], flow.Steps[1].DependsOn);
    }

    [Fact]
    public void Read_Cycle_RejectedNamingTheCycleInRunOrder()
    {
        var message = Rejected("""
            {"name":"n","steps":{"a":{"type":"echo","depends_on":["c"]},"b":{"type":"echo","depends_on":["a"]},
             "c":{"type":"echo","depends_on":["b"]},"d":{"type":"echo"}}}
            """);

        Assert.StartsWith("flow.json steps: cycle: a → b → c → a", message);
    }

    [Fact]
    public void Read_SelfDependency_IsACycle() =>
        Assert.StartsWith("flow.json steps: cycle: a → a", Rejected("""{"name":"n","steps":{"a":{"type":"echo","depends_on":["a"]}}}"""));

    [Fact]
    public void Read_UnknownDependency_RejectedNamingStepAndMissingName() =>
        Assert.Equal("flow.json steps.b.depends_on: unknown step 'nope' (steps: a, b)",
            Rejected("""{"name":"n","steps":{"a":{"type":"echo"},"b":{"type":"echo","depends_on":["nope"]}}}"""));

    [Fact]
    public void Read_DuplicateStepName_Rejected()
    {
        Assert.Equal("flow.json steps: duplicate step name 'a'",
            Rejected("""{"name":"n","steps":[{"name":"a","type":"echo"},{"name":"a","type":"echo"}]}"""));
        // As a key given twice, refused when the document is parsed.
        var twice = Rejected("""{"name":"n","steps":{"a":{"type":"echo"},"a":{"type":"echo"}}}""");
        Assert.StartsWith("flow.json: malformed JSON", twice, StringComparison.Ordinal);
        Assert.Contains("Duplicate property 'a'", twice, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":"n","steps":{}}""", "flow.json steps: holds no step (a workflow needs at least one)")]
    [InlineData("""{"steps":{"a":{"type":"echo"}}}""", "flow.json name: is required (it names the workflow in lists)")]
    [InlineData("""{"name":"n"}""", "flow.json steps: is required")]
    [InlineData("""{"name":"n","steps":{"a":{"type":"echo"}},"extra":1}""", "flow.json: unknown field 'extra'")]
    [InlineData("""{"name":"n","on_failure":"retry","steps":{"a":{"type":"echo"}}}""", "flow.json on_failure: 'retry' is not a failure rule")]
    [InlineData("""{"name":"n","steps":{"a":{"type":"echo","depends_on":["b","b"]},"b":{"type":"echo"}}}""", "flow.json steps.a.depends_on: lists 'b' twice")]
    [InlineData("""{"name":"n","steps":{"bad name":{"type":"echo"}}}""", "flow.json steps: 'bad name' is not a valid name")]
    [InlineData("""{"name":"n","steps":[{"type":"echo"}]}""", "flow.json steps[0]: a step in an array needs a \"name\"")]
    [InlineData("""[1]""", "flow.json: a workflow document must be a JSON object, got an array")]
    public void Read_BadStructure_OneLineNamingThePlace(string text, string expected) =>
        Assert.StartsWith(expected, Rejected(text));

    [Theory]
    [InlineData("""{"name":"n","steps":{"a":{"type":"echo","max_attempts":0}}}""", "flow.json steps.a.max_attempts: must be between 1 and")]
    [InlineData("""{"name":"n","steps":{"a":{"payload":{}}}}""", "flow.json steps.a.type: is required")]
    [InlineData("""{"name":"n","steps":{"a":{"type":"echo","colour":"red"}}}""", "flow.json steps.a: unknown field 'colour'")]
    [InlineData("""{"name":"n","steps":{"a":{"type":"echo","idempotency_key":"k"}}}""", "flow.json steps.a.idempotency_key: is not allowed on a workflow step")]
    [InlineData("""{"name":"n","steps":{"a":{"type":"echo"},"b":{"type":"echo","depends_on":["a"],"run_at":"2030-01-01T00:00:00Z"}}}""", "flow.json steps.b.run_at: is allowed only on a step without dependencies")]
    [InlineData("""{"name":"n","steps":{"a":{"type":"echo","depends_on":"b"},"b":{"type":"echo"}}}""", "flow.json steps.a.depends_on: expected an array of strings")]
    public void Read_BadStep_ErrorPrefixedWithTheStep(string text, string expected) =>
        Assert.StartsWith(expected, Rejected(text));

    [Fact]
    public void Read_MalformedJson_NamesTheFile() =>
        Assert.StartsWith("flow.json: malformed JSON", Rejected("""{"name": """));
}
