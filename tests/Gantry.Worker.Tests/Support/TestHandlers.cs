using System.Text.Json;
using Gantry.Handlers;

namespace Gantry.Worker.Tests.Support;

/// <summary>Job types the tests register next to the built-in ones.</summary>
internal static class TestJobTypes
{
    public const string Block = "test.block";
    public const string Ignore = "test.ignore";
    public const string IgnoreThenThrow = "test.ignore-then-throw";
    public const string StuckThread = "test.stuck-thread";
    public const string Count = "test.count";
    public const string Throw = "test.throw";
    public const string Progress = "test.progress";
}

/// <summary>Waits for <see cref="Probe.Release"/>, honouring its token.</summary>
internal sealed class BlockHandler(Probe probe) : IJobHandler<JsonElement>
{
    public async ValueTask HandleAsync(JsonElement payload, JobContext context)
    {
        probe.Started(context);
        await probe.Release.Task.WaitAsync(context.CancellationToken);
    }
}

/// <summary>Waits for <see cref="Probe.Release"/> and ignores its token.</summary>
internal sealed class IgnoreTokenHandler(Probe probe) : IJobHandler<JsonElement>
{
    public async ValueTask HandleAsync(JsonElement payload, JobContext context)
    {
        probe.Started(context);
        await probe.Release.Task;
    }
}

/// <summary>Ignores its token until <see cref="Probe.Release"/>, then throws.</summary>
internal sealed class IgnoreTokenThenThrowHandler(Probe probe) : IJobHandler<JsonElement>
{
    public async ValueTask HandleAsync(JsonElement payload, JobContext context)
    {
        probe.Started(context);
        await probe.Release.Task;
        throw new InvalidOperationException("gave up late");
    }
}

/// <summary>Blocks its thread until <see cref="Probe.ReleaseThreads"/>, ignoring its token: synchronous code that never yields.</summary>
internal sealed class StuckThreadHandler(Probe probe) : IJobHandler<JsonElement>
{
    public ValueTask HandleAsync(JsonElement payload, JobContext context)
    {
        probe.Started(context);
        probe.ReleaseThreads.Wait(TimeSpan.FromSeconds(60));
        return ValueTask.CompletedTask;
    }
}

/// <summary>Runs for <c>ms</c> milliseconds while the probe counts how many run at once.</summary>
internal sealed class CountHandler(Probe probe) : IJobHandler<CountHandler.Payload>
{
    public sealed record Payload(int Ms = 50);

    public async ValueTask HandleAsync(Payload payload, JobContext context)
    {
        probe.Started(context);
        probe.Enter(context.Queue);
        try
        {
            await Task.Delay(payload.Ms, context.CancellationToken);
        }
        finally
        {
            probe.Leave(context.Queue);
        }
    }
}

/// <summary>Always throws.</summary>
internal sealed class ThrowHandler : IJobHandler<JsonElement>
{
    public ValueTask HandleAsync(JsonElement payload, JobContext context) =>
        throw new InvalidOperationException($"boom on attempt {context.Attempt}");
}

/// <summary>Reports 37% done, then waits for <see cref="Probe.Release"/>.</summary>
internal sealed class ProgressHandler(Probe probe) : IJobHandler<JsonElement, string>
{
    public async ValueTask<string> HandleAsync(JsonElement payload, JobContext context)
    {
        await context.ReportProgressAsync(37, "working");
        probe.Started(context);
        await probe.Release.Task.WaitAsync(context.CancellationToken);
        return "done";
    }
}
