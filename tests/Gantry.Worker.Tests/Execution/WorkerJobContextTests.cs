using System.Collections.Concurrent;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Execution;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Worker.Tests.Execution;

/// <summary>The handler's context on its own: cancellation reasons, the timeout clock, progress throttling.</summary>
public sealed class WorkerJobContextTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly ConcurrentQueue<JobReport> _reports = new();

    private static ClaimedJob Claimed() => new()
    {
        Id = JobIds.New(),
        Type = "t",
        Queue = "default",
        Payload = """{"a":1}""",
        Attempt = 2,
        MaxAttempts = 5,
        WorkerId = "w1",
    };

    private WorkerJobContext Context(TimeSpan? progressInterval = null, TimeProvider? time = null) =>
        new(Claimed(), NullLogger.Instance, _reports.Enqueue, time ?? TimeProvider.System, progressInterval ?? TimeSpan.FromHours(1));

    [Fact]
    public void Properties_ClaimedJob_Exposed()
    {
        using var context = Context();

        Assert.Equal(2, context.Attempt);
        Assert.Equal(5, context.MaxAttempts);
        Assert.Equal(1, context.Payload.GetProperty("a").GetInt32());
        Assert.Equal(CancelReason.None, context.CancelReason);
        Assert.False(context.CancellationToken.IsCancellationRequested);
    }

    [Fact]
    public void Cancel_TwoReasons_FirstWins()
    {
        using var context = Context();

        context.Cancel(CancelReason.UserCancelled);
        context.Cancel(CancelReason.Shutdown);

        Assert.True(context.CancellationToken.IsCancellationRequested);
        Assert.Equal(CancelReason.UserCancelled, context.CancelReason);
    }

    [Fact]
    public void Cancel_BeforeTokenRead_TokenCancelled()
    {
        using var context = Context();

        context.Cancel(CancelReason.Timeout);

        Assert.True(context.CancellationToken.IsCancellationRequested);
        Assert.False(context.AbandonToken.IsCancellationRequested);
    }

    [Fact]
    public void Abandon_BeforeTokensRead_BothCancelled()
    {
        using var context = Context();

        context.Abandon(CancelReason.UserCancelled);

        Assert.True(context.AbandonToken.IsCancellationRequested);
        Assert.True(context.CancellationToken.IsCancellationRequested);
        Assert.Equal(CancelReason.UserCancelled, context.CancelReason);
    }

    [Fact]
    public void Payload_DefaultShared_StaysReadableAfterAnotherAttemptDisposed()
    {
        var first = new WorkerJobContext(Claimed() with { Payload = "{}" }, NullLogger.Instance, _reports.Enqueue, TimeProvider.System, TimeSpan.FromHours(1));
        using var second = new WorkerJobContext(Claimed() with { Payload = "{}" }, NullLogger.Instance, _reports.Enqueue, TimeProvider.System, TimeSpan.FromHours(1));
        Assert.Equal(System.Text.Json.JsonValueKind.Object, first.Payload.ValueKind);

        first.Dispose();

        Assert.Equal(System.Text.Json.JsonValueKind.Object, second.Payload.ValueKind);
        Assert.Empty(second.Payload.EnumerateObject());
    }

    [Fact]
    public void Logger_FirstUsedAfterFinish_KeepsNothing()
    {
        using var context = Context();
        context.Finish();

        context.Logger.LogInformation("late");

        Assert.Empty(_reports);
    }

    [Fact]
    public void Logger_LinesBeforeFinish_SentAtFinish()
    {
        using var context = Context();
        context.Logger.LogInformation("one");
        context.Logger.LogWarning("two");

        context.Finish();

        var log = Assert.IsType<JobLogReport>(Assert.Single(_reports));
        Assert.Equal(["one", "two"], log.Lines.Select(l => l.Message));
    }

    [Fact]
    public async Task CancelAfter_Elapsed_CancelledAsTimeout()
    {
        using var context = Context();
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        context.CancellationToken.Register(fired.SetResult);

        context.CancelAfter(TimeSpan.FromMilliseconds(50));

        await fired.Task.WaitAsync(Deadline);
        Assert.Equal(CancelReason.Timeout, context.CancelReason);
    }

    [Fact]
    public void Finish_PendingTimeout_TimerStopped()
    {
        var time = new TimerCountingTimeProvider();
        var context = Context(time: time);
        context.CancelAfter(TimeSpan.FromHours(1));
        Assert.Equal(1, time.Live);

        context.Finish();

        Assert.Equal(0, time.Live);
        context.Dispose();
    }

    [Fact]
    public void CancelAfter_BeyondTimerRange_NoTimeout()
    {
        using var context = Context();

        context.CancelAfter(TimeSpan.FromDays(365));

        Assert.False(context.CancellationToken.IsCancellationRequested);
    }

    [Fact]
    public async Task ReportProgress_Burst_FirstAtOnceLatestAfterInterval()
    {
        // Time stands still for the throttle, so the burst is always within one interval; the flush timer is real.
        using var context = Context(TimeSpan.FromMilliseconds(100), new FrozenTimestampTimeProvider());

        await context.ReportProgressAsync(10, "a");
        await context.ReportProgressAsync(20, "b");
        await context.ReportProgressAsync(150, "c");

        var first = Assert.IsType<JobProgressReport>(Assert.Single(_reports));
        Assert.Equal((10.0, "a", 2, "w1"), (first.Percent, first.Message, first.Attempt, first.WorkerId));
        var deadline = DateTimeOffset.UtcNow + Deadline;
        while (_reports.Count < 2 && DateTimeOffset.UtcNow < deadline) await Task.Delay(20);
        var last = Assert.IsType<JobProgressReport>(_reports.Last());
        Assert.Equal((100.0, "c"), (last.Percent, last.Message));
    }

    [Fact]
    public async Task ReportProgress_AfterFinish_NotReported()
    {
        using var context = Context();
        context.Finish();

        await context.ReportProgressAsync(50);

        Assert.Empty(_reports);
    }

    [Fact]
    public async Task ReportProgress_NaN_Throws()
    {
        using var context = Context();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await context.ReportProgressAsync(double.NaN));
    }

    /// <summary>The system clock and timers, with a timestamp that never moves.</summary>
    private sealed class FrozenTimestampTimeProvider : TimeProvider
    {
        private readonly long _timestamp = System.GetTimestamp();

        public override long GetTimestamp() => _timestamp;
    }

    /// <summary>The system clock, counting timers created and not yet disposed.</summary>
    private sealed class TimerCountingTimeProvider : TimeProvider
    {
        private int _live;

        public int Live => Volatile.Read(ref _live);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _live);
            return new CountedTimer(System.CreateTimer(callback, state, dueTime, period), this);
        }

        private sealed class CountedTimer(ITimer inner, TimerCountingTimeProvider owner) : ITimer
        {
            private int _disposed;

            public bool Change(TimeSpan dueTime, TimeSpan period) => inner.Change(dueTime, period);

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0) Interlocked.Decrement(ref owner._live);
                inner.Dispose();
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
