using Gantry.Cli.Output;
using Gantry.Protocol;
using Gantry.Server.Api;
using Gantry.Storage;
using Gantry.Workflows;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry submit --workflow flow.json</c>: validate a workflow document and store it, all steps or none.</summary>
internal static class WorkflowSubmit
{
    public static async Task<int> RunAsync(ParseResult parse, string path, JobLimits limits, bool checkTypes, GantryConfig config,
        ControlOptions location, bool asJson, bool wait, CancellationToken ct)
    {
        var (text, source) = await SubmitCommand.ReadInputAsync(path, limits, ct, "--workflow").ConfigureAwait(false);
        var workflow = WorkflowDocumentReader.Read(text, source, limits);

        await using var store = await location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
        var created = await store.WorkflowCreateAsync(workflow, text, allowUnknownTypes: !checkTypes, config.KnownJobTypes, ct).ConfigureAwait(false);

        if (!wait)
        {
            if (asJson) Cli.WriteJson(created, Cli.Json.WorkflowSubmitView);
            else Console.Out.WriteLine(created.Id);
            return Cli.Ok;
        }
        if (!asJson) Console.Out.WriteLine(created.Id);
        var done = await WaitAsync(store, Guid.Parse(created.Id), ct).ConfigureAwait(false);
        if (asJson) Cli.WriteJson(WorkflowView.From(done), Cli.Json.WorkflowView);
        else Console.Out.Write(WorkflowText.Show(done, DateTimeOffset.UtcNow));
        return Cli.Outcome(done.State);
    }

    /// <summary>Polls until no step is unfinished.</summary>
    public static async Task<WorkflowRecord> WaitAsync(Gantry.Hosting.Control.IGantryControl store, Guid id, CancellationToken ct)
    {
        while (true)
        {
            var workflow = await store.WorkflowGetAsync(id, ct).ConfigureAwait(false) ?? throw new WorkflowNotFoundException(id.ToString());
            if (workflow.State != WorkflowState.Running) return workflow;
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }
}
