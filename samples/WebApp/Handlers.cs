using Gantry.Handlers;

namespace WebApp;

public sealed record GreetPayload(string Name);

public sealed record GreetResult(string Greeting);

/// <summary>A short job with a typed payload and result.</summary>
public sealed class GreetHandler : IJobHandler<GreetPayload, GreetResult>
{
    public ValueTask<GreetResult> HandleAsync(GreetPayload payload, JobContext context) =>
        ValueTask.FromResult(new GreetResult($"Hello, {payload.Name}!"));
}

public sealed record ReportPayload(int Steps, int StepMs = 100);

public sealed record ReportResult(int Steps, int ResumedFrom);

/// <summary>A long job: one step at a time, a checkpoint after each, stopping when its token fires.</summary>
public sealed class ReportHandler : IJobHandler<ReportPayload, ReportResult>
{
    public async ValueTask<ReportResult> HandleAsync(ReportPayload payload, JobContext context)
    {
        var from = context.GetCheckpoint<int>();
        for (var step = from; step < payload.Steps; step++)
        {
            await Task.Delay(payload.StepMs, context.CancellationToken);
            await context.SaveCheckpointAsync(step + 1);
            await context.ReportProgressAsync(100.0 * (step + 1) / payload.Steps, $"step {step + 1} of {payload.Steps}");
        }
        return new ReportResult(payload.Steps, from);
    }
}
