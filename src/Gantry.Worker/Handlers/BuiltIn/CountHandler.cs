using System.Text.Json;
using Gantry.Handlers;

namespace Gantry.Worker.Handlers.BuiltIn;

/// <summary>
/// <c>count</c> <c>{"to":N,"step_ms":M,"checkpoint_every":K}</c>: counts to N, one step every M ms,
/// saves a checkpoint every K steps (and whenever the runtime asks: drain, shutdown, cancel), and
/// resumes from the latest checkpoint. Returns <c>{"counted_to":N,"resumed_from":R}</c>, R being the
/// count it started from (0 when fresh). For demos and tests of long-running jobs.
/// </summary>
internal sealed class CountHandler : IJobHandler<CountHandler.Payload, CountHandler.Result>, ICheckpointSource
{
    public sealed record Payload(long To = 100, int StepMs = 100, long CheckpointEvery = 10);
    public sealed record Result(long CountedTo, long ResumedFrom);
    public sealed record State(long Count);

    private long _count;

    public object? CaptureCheckpoint() => Checkpoint(Interlocked.Read(ref _count));

    /// <summary>The checkpoint <c>{"count":N}</c> as bytes, written without reflection.</summary>
    private static byte[] Checkpoint(long count) => JsonSerializer.SerializeToUtf8Bytes(new State(count), BuiltInJson.Default.CountState);

    public async ValueTask<Result> HandleAsync(Payload payload, JobContext context)
    {
        if (payload.To < 0 || payload.StepMs < 0 || payload.CheckpointEvery < 0)
            throw new ArgumentOutOfRangeException(nameof(payload), "to, step_ms and checkpoint_every must not be negative");
        var resumedFrom = Math.Min(context.GetCheckpoint(BuiltInJson.Default.CountState)?.Count ?? 0, payload.To);
        Interlocked.Exchange(ref _count, resumedFrom);
        for (var i = resumedFrom + 1; i <= payload.To; i++)
        {
            await Task.Delay(payload.StepMs, context.CancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _count, i);
            await context.ReportProgressAsync(100.0 * i / Math.Max(payload.To, 1), $"counted to {i} of {payload.To}").ConfigureAwait(false);
            if (payload.CheckpointEvery > 0 && i % payload.CheckpointEvery == 0)
                await context.SaveCheckpointAsync(Checkpoint(i)).ConfigureAwait(false);
        }
        return new Result(payload.To, resumedFrom);
    }
}

