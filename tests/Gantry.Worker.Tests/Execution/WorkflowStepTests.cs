using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Tests.Support;
using Gantry.Workflows;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Tests.Execution;

/// <summary>Workflow steps run by a real worker: each step sees its dependencies' results through its context.</summary>
public sealed class WorkflowStepTests : WorkerTestBase
{
    private const string Sum = "test.sum";

    protected override void ConfigureServices(IServiceCollection services) => services.AddGantryHandler<SumHandler>(Sum);

    /// <summary>Adds up the "n" of every dependency's result, and reports which steps it saw.</summary>
    private sealed class SumHandler : IJobHandler<JsonElement, SumResult>
    {
        public ValueTask<SumResult> HandleAsync(JsonElement payload, JobContext context)
        {
            var left = context.GetDependencyResult<Number>("left")!;
            var right = context.GetDependencyResult<Number>("right")!;
            return ValueTask.FromResult(new SumResult(left.N + right.N, context.DependencyResults.Keys.Order().ToArray()));
        }
    }

    private sealed record Number(int N);

    private sealed record SumResult(int Total, string[] Seen);

    [Fact]
    public async Task Step_ReadsDependencyResultsByName_ThroughItsContext()
    {
        await StartWorkerAsync();
        var flow = new NewWorkflow
        {
            Id = JobIds.New(),
            Name = "sum",
            Steps =
            [
                new NewWorkflowStep("left", Job(BuiltInHandlers.Echo, """{"n":2}"""), []),
                new NewWorkflowStep("right", Job(BuiltInHandlers.Echo, """{"n":40}"""), []),
                new NewWorkflowStep("sum", Job(Sum), ["left", "right"]),
            ],
        };

        var created = await Store.WorkflowCreateAsync(new WorkflowCreateParams(flow), Ct);

        var sum = await WaitForStateAsync(created.Steps.Single(s => s.Step == "sum").JobId, JobState.Succeeded);
        using var result = JsonDocument.Parse(sum.Result!);
        Assert.Equal(42, result.RootElement.GetProperty("total").GetInt32());
        Assert.Equal(["left", "right"], result.RootElement.GetProperty("seen").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(WorkflowState.Succeeded, (await Store.WorkflowGetAsync(flow.Id, Ct))!.State);
    }
}
