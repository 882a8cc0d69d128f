using Gantry.Handlers;
using Microsoft.Extensions.Logging;

namespace HelloHandlers;

/// <summary>The payload of a <c>greet</c> job: <c>{"name":"Ada","times":3}</c>.</summary>
public sealed record GreetPayload(string Name, int Times = 1);

/// <summary>The result stored with the job.</summary>
public sealed record GreetResult(string Greeting, int Attempt);

/// <summary>
/// A handler: one class per job type, resolved from dependency injection (constructor injection
/// works), given a typed payload and a context.
/// </summary>
public sealed class GreetHandler(TimeProvider time) : IJobHandler<GreetPayload, GreetResult>
{
    public async ValueTask<GreetResult> HandleAsync(GreetPayload payload, JobContext context)
    {
        if (string.IsNullOrWhiteSpace(payload.Name))
            throw new ArgumentException("name is required"); // fails the attempt; retried with backoff

        for (var i = 1; i <= payload.Times; i++)
        {
            // Honour cancellation: the token fires on cancel, timeout and shutdown.
            await Task.Delay(TimeSpan.FromMilliseconds(300), time, context.CancellationToken);
            await context.ReportProgressAsync(100.0 * i / payload.Times, $"greeted {i} of {payload.Times} times");
        }
        context.Logger.LogInformation("Greeted {Name} on attempt {Attempt}", payload.Name, context.Attempt);
        return new GreetResult($"Hello, {payload.Name}!", context.Attempt);
    }
}
