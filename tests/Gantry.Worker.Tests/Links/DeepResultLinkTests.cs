using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Links;
using Gantry.Worker.Tests.Support;
using Gantry.Storage;
using Gantry.Workflows;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Tests.Links;

/// <summary>
/// A result as deep as a job's JSON may be (62 levels) travels every link: in the report of its attempt, and to the step
/// that depends on it in the fetch answer. The HTTP protocol's JSON used to stop at 64 levels with its envelope: the
/// server refused such a report (400), sent again and again, and the worker could not have read such a dependency.
/// </summary>
public sealed class DeepResultLinkTests : WorkerTestBase
{
    private const string Deep = "test.deep";
    private const int Depth = 62;

    protected override void ConfigureServices(IServiceCollection services) => services.AddGantryHandler<DeepHandler>(Deep);

    private sealed class DeepHandler : IJobHandler<JsonElement, JsonElement>
    {
        public ValueTask<JsonElement> HandleAsync(JsonElement payload, JobContext context) =>
            ValueTask.FromResult(JsonDocument.Parse(new string('[', Depth) + "1" + new string(']', Depth)).RootElement.Clone());
    }

    [Fact]
    public Task ResultAsDeepAsAJobsJson_ReportedAndHandedToTheNextStep_OverStoreHttpAndIpc() =>
        OverEveryLinkAsync([BuiltInHandlers.Echo, Deep], RunThroughAsync);

    private async Task RunThroughAsync(string name, IWorkerLink link)
    {
        var worker = CreateWorker(link);
        await worker.StartAsync(Ct);
        var flow = new NewWorkflow
        {
            Id = JobIds.New(),
            Name = "deep",
            Steps = [new NewWorkflowStep("deep", Job(Deep), []), new NewWorkflowStep("echo", Job(BuiltInHandlers.Echo), ["deep"])],
        };
        var steps = (await Store.WorkflowCreateAsync(new WorkflowCreateParams(flow), Ct)).Steps.ToDictionary(s => s.Step, s => s.JobId);

        var deep = await WaitForStateAsync(steps["deep"], JobState.Succeeded);
        Assert.True(deep.Result!.StartsWith(new string('[', Depth), StringComparison.Ordinal), $"over {name}: {deep.Result}");
        var echo = await WaitForStateAsync(steps["echo"], JobState.Succeeded);
        Assert.Equal(JobState.Succeeded, echo.State);
        await worker.StopAsync(Ct);
    }
}
