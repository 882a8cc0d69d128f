using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Testing;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Tests.Testing;

/// <summary>Gantry.Testing: a handler tested without a store or a worker, with the outcome the worker would give.</summary>
public sealed class HandlerTestContextTests
{
    public sealed record ImportPayload(string File, int Rows);

    public sealed record ImportResult(int Imported, int ResumedFrom);

    /// <summary>Resumes from its checkpoint, reports progress, checkpoints every 10 rows and logs; fails for good on a bad file.</summary>
    private sealed class ImportHandler : IJobHandler<ImportPayload, ImportResult>
    {
        public async ValueTask<ImportResult> HandleAsync(ImportPayload payload, JobContext context)
        {
            if (payload.File.EndsWith(".exe", StringComparison.Ordinal)) throw new JobFailedException($"{payload.File} is not a CSV file", retry: false);
            if (payload.File == "busy.csv") throw new JobFailedException("the file server is busy", retryAfter: TimeSpan.FromMinutes(5));
            if (payload.File == "flaky.csv") throw new IOException("connection reset");
            var from = context.GetCheckpoint<int>();
            for (var row = from + 1; row <= payload.Rows; row++)
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                if (row % 10 == 0) await context.SaveCheckpointAsync(row);
                await context.ReportProgressAsync(100.0 * row / payload.Rows, $"row {row}");
            }
            context.Logger.LogInformation("imported {Rows} rows of {File}", payload.Rows - from, payload.File);
            return new ImportResult(payload.Rows - from, from);
        }
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    [Fact]
    public async Task Run_Succeeds_CapturesProgressCheckpointsLogsAndResult()
    {
        using var context = new HandlerTestContext(new { file = "a.csv", rows = 25 });

        var run = await HandlerTest.RunAsync(new ImportHandler(), context);

        Assert.Equal(HandlerOutcome.Succeeded, run.Outcome);
        Assert.Equal(new ImportResult(25, 0), run.Result);
        Assert.Equal("""{"imported":25,"resumed_from":0}""", run.ResultJson);
        Assert.Equal(25, context.Progress.Count);
        Assert.Equal(new ProgressUpdate(100, "row 25"), context.Progress[^1]);
        Assert.Equal(2, context.Checkpoints.Count);
        Assert.Equal(20, context.LastCheckpoint<int>());
        var log = Assert.Single(context.Logs);
        Assert.Equal(LogLevel.Information, log.Level);
        Assert.Equal("imported 25 rows of a.csv", log.Message);
    }

    [Fact]
    public async Task Run_FromACheckpoint_Resumes()
    {
        using var context = HandlerTestContext.FromJson("""{"file":"a.csv","rows":25}""").WithCheckpoint(20);

        var run = await HandlerTest.RunAsync(new ImportHandler(), context);

        Assert.Equal(new ImportResult(5, 20), run.Result);
    }

    [Fact]
    public async Task Run_FailsForGood_DeadWithAttemptsLeft()
    {
        using var context = new HandlerTestContext(new { file = "virus.exe", rows = 1 }) { AttemptsAllowed = 5 };

        var run = await HandlerTest.RunAsync(new ImportHandler(), context, new FixedTime(Now));

        Assert.Equal(HandlerOutcome.Dead, run.Outcome);
        Assert.Null(run.RetryAt);
        Assert.Equal("virus.exe is not a CSV file", run.Error!.Message);
    }

    [Fact]
    public async Task Run_AsksForARetryDelay_RetriedThen()
    {
        using var context = new HandlerTestContext(new { file = "busy.csv", rows = 1 });

        var run = await HandlerTest.RunAsync(new ImportHandler(), context, new FixedTime(Now));

        Assert.Equal(HandlerOutcome.Retried, run.Outcome);
        Assert.Equal(Now.AddMinutes(5), run.RetryAt);
    }

    [Fact]
    public async Task Run_OtherException_RetriedWithBackoff_DeadOnTheLastAttempt()
    {
        var backoff = new Backoff(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        using var first = new HandlerTestContext(new { file = "flaky.csv", rows = 1 }) { Backoff = backoff };
        var retried = await HandlerTest.RunAsync(new ImportHandler(), first, new FixedTime(Now));
        Assert.Equal(HandlerOutcome.Retried, retried.Outcome);
        Assert.InRange(retried.RetryAt!.Value, Now, Now.AddSeconds(10));

        using var last = new HandlerTestContext(new { file = "flaky.csv", rows = 1 }) { AttemptNumber = 5, AttemptsAllowed = 5 };
        Assert.Equal(HandlerOutcome.Dead, (await HandlerTest.RunAsync(new ImportHandler(), last)).Outcome);
    }

    [Fact]
    public async Task Run_PayloadThatDoesNotFit_Dead()
    {
        using var context = HandlerTestContext.FromJson("""{"file":"a.csv","rows":"many"}""");

        var run = await HandlerTest.RunAsync(new ImportHandler(), context);

        Assert.Equal(HandlerOutcome.Dead, run.Outcome);
        Assert.Contains("does not fit ImportPayload", run.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Cancelled_StopsOnItsToken()
    {
        using var context = new HandlerTestContext(new { file = "a.csv", rows = 25 });
        context.Cancel();

        var run = await HandlerTest.RunAsync(new ImportHandler(), context);

        Assert.Equal(HandlerOutcome.Cancelled, run.Outcome);
        Assert.Equal(CancelReason.UserCancelled, context.CancelReason);
        Assert.Empty(context.Progress);
    }
}
