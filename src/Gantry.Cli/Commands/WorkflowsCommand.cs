using Gantry.Cli.Output;
using Gantry.Server.Api;
using Gantry.Storage;
using Gantry.Workflows;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry workflows list|show|cancel</c>.</summary>
internal static class WorkflowsCommand
{
    public static Command Create() => new("workflows", "Inspect and cancel workflows (submit one with gantry submit --workflow flow.json)")
    {
        List(), Show(), Cancel(),
    };

    private static Command List()
    {
        var state = CliOptions.State("workflow", WorkflowStates.All, WorkflowStates.ToText, WorkflowStates.TryParse);
        var limit = new Option<int>("--limit", "-n") { Description = "Most workflows to list, newest first", DefaultValueFactory = _ => 50, HelpName = "n" };
        var before = new Option<Guid?>("--before") { Description = "Only workflows older than this workflow id (paging)", HelpName = "id" };
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("list", "List workflows, newest first, with their derived state") { state, limit, before, json, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(limit);
            if (n is < 1 or > 10_000) throw new InvalidInputException("--limit", $"must be between 1 and 10000, got {n}");
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var list = await store.WorkflowListAsync(new WorkflowListParams { State = parse.GetValue(state), Limit = n, Before = parse.GetValue(before) }, ct)
                .ConfigureAwait(false);
            if (parse.GetValue(json)) Cli.WriteJson(list.Select(WorkflowSummaryView.From).ToArray(), Cli.Json.WorkflowSummaryViewArray);
            else Console.Out.Write(WorkflowText.List(list, DateTimeOffset.UtcNow));
            return Cli.Ok;
        });
        return command;
    }

    private static Command Show()
    {
        var id = CliOptions.Id("workflow");
        var wait = new Option<bool>("--wait", "-w") { Description = "Wait until the workflow has finished, then show it" };
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("show", "Show a workflow: its state and the graph of its steps, each with its state") { id, wait, json, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            var workflowId = parse.GetValue(id);
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var workflow = parse.GetValue(wait)
                ? await WorkflowSubmit.WaitAsync(store, workflowId, ct).ConfigureAwait(false)
                : await store.WorkflowGetAsync(workflowId, ct).ConfigureAwait(false) ?? throw new WorkflowNotFoundException(workflowId.ToString());
            if (parse.GetValue(json)) Cli.WriteJson(WorkflowView.From(workflow), Cli.Json.WorkflowView);
            else Console.Out.Write(WorkflowText.Show(workflow, DateTimeOffset.UtcNow));
            return parse.GetValue(wait) ? Cli.Outcome(workflow.State) : Cli.Ok;
        });
        return command;
    }

    private static Command Cancel()
    {
        var id = CliOptions.Id("workflow");
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("cancel", "Cancel every unfinished step of a workflow (running ones are stopped by their workers)") { id, json, location, config };
        command.SetHandler(async (parse, ct) =>
        {
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var result = await store.WorkflowCancelAsync(parse.GetValue(id), ct).ConfigureAwait(false);
            if (parse.GetValue(json)) Cli.WriteJson(new WorkflowCancelView(result.Id.ToString(), result.Cancelled, result.Requested), Cli.Json.WorkflowCancelView);
            else Console.Out.WriteLine($"{result.Id}: {result.Cancelled} step{(result.Cancelled == 1 ? "" : "s")} cancelled, {result.Requested} running step{(result.Requested == 1 ? "" : "s")} asked to stop");
            return Cli.Ok;
        });
        return command;
    }
}
