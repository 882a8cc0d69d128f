using Gantry.Handlers;

namespace Gantry.Worker.Handlers.BuiltIn;

/// <summary><c>sleep</c> <c>{"ms":…}</c>: waits, reporting progress as it goes, and stops when cancelled.</summary>
internal sealed class SleepHandler : IJobHandler<SleepHandler.Payload, SleepHandler.Result>
{
    public sealed record Payload(long Ms = 1000);
    public sealed record Result(long SleptMs);

    public async ValueTask<Result> HandleAsync(Payload payload, JobContext context)
    {
        if (payload.Ms < 0) throw new ArgumentOutOfRangeException(nameof(payload), "ms must not be negative");
        var total = TimeSpan.FromMilliseconds(payload.Ms);
        var step = TimeSpan.FromMilliseconds(Math.Clamp(payload.Ms / 20.0, 1, 500));
        var started = DateTimeOffset.UtcNow;
        while (true)
        {
            var elapsed = DateTimeOffset.UtcNow - started;
            if (elapsed >= total) break;
            await context.ReportProgressAsync(100.0 * elapsed / total, $"slept {elapsed.TotalMilliseconds:0} of {payload.Ms} ms").ConfigureAwait(false);
            var left = total - elapsed;
            await Task.Delay(left < step ? left : step, context.CancellationToken).ConfigureAwait(false);
        }
        return new Result(payload.Ms);
    }
}
