using Gantry.Jobs;

namespace Gantry.Core.Tests.Jobs;

public sealed class RetryPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 31, 9, 30, 0, TimeSpan.Zero);
    private static readonly Backoff TenSeconds = new(TimeSpan.FromSeconds(10), TimeSpan.FromHours(1));

    [Fact]
    public void AfterFailure_AttemptsLeft_ScheduledWithBackoff()
    {
        var (next, runAt) = RetryPolicy.AfterFailure(1, 3, TenSeconds, Now, new Random(1));

        Assert.Equal(JobState.Scheduled, next);
        Assert.NotNull(runAt);
        Assert.InRange(runAt.Value - Now, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void AfterFailure_SecondAttempt_BacksOffLonger()
    {
        var (_, runAt) = RetryPolicy.AfterFailure(2, 3, TenSeconds, Now, new Random(1));

        Assert.InRange(runAt!.Value - Now, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20));
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(1, 1)]
    [InlineData(4, 3)]
    public void AfterFailure_AtMaxAttempts_Dead(int attempt, int maxAttempts)
    {
        var (next, runAt) = RetryPolicy.AfterFailure(attempt, maxAttempts, TenSeconds, Now, new Random(1));

        Assert.Equal(JobState.Dead, next);
        Assert.Null(runAt);
    }

    [Fact]
    public void AfterFailure_NotRetryable_DeadAtOnce()
    {
        var (next, runAt) = RetryPolicy.AfterFailure(1, 5, TenSeconds, Now, new Random(1), retryable: false);

        Assert.Equal(JobState.Dead, next);
        Assert.Null(runAt);
    }

    [Fact]
    public void AfterLostWorker_AttemptsLeft_Queued() =>
        Assert.Equal(JobState.Queued, RetryPolicy.AfterLostWorker(1, 3, cancelRequested: false));

    [Fact]
    public void AfterLostWorker_AttemptsExhausted_Dead() =>
        Assert.Equal(JobState.Dead, RetryPolicy.AfterLostWorker(3, 3, cancelRequested: false));

    [Theory]
    [InlineData(1, 3)]
    [InlineData(3, 3)]
    public void AfterLostWorker_CancelRequested_Cancelled(int attempt, int maxAttempts) =>
        Assert.Equal(JobState.Cancelled, RetryPolicy.AfterLostWorker(attempt, maxAttempts, cancelRequested: true));

    [Fact]
    public void AfterFailure_RetryAfterAsked_ScheduledThenInsteadOfTheBackoff()
    {
        var (next, runAt) = RetryPolicy.AfterFailure(1, 3, TenSeconds, Now, new Random(1), retryAfter: TimeSpan.FromMinutes(7));
        Assert.Equal(JobState.Scheduled, next);
        Assert.Equal(Now.AddMinutes(7), runAt);
    }

    [Fact]
    public void AfterFailure_RetryAfterAskedOnTheLastAttempt_DeadAnyway()
    {
        var (next, runAt) = RetryPolicy.AfterFailure(3, 3, TenSeconds, Now, new Random(1), retryAfter: TimeSpan.FromMinutes(7));
        Assert.Equal(JobState.Dead, next);
        Assert.Null(runAt);
    }

    [Fact]
    public void JobFailedException_RetryDelayWithoutRetry_Refused()
    {
        Assert.Throws<ArgumentException>(() => new Gantry.Handlers.JobFailedException("x", retry: false, retryAfter: TimeSpan.FromSeconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Gantry.Handlers.JobFailedException("x", retryAfter: TimeSpan.FromSeconds(-1)));
    }
}
