using Gantry.Node.Supervision;

namespace Gantry.Node.Tests.Supervision;

public sealed class RestartPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static NodeOptions Options(int maxRestarts = 5) => new()
    {
        RunDirectory = "/tmp/x", WorkerCommand = ["gantry"], MaxRestarts = maxRestarts,
        RestartBackoff = TimeSpan.FromSeconds(1), RestartBackoffMax = TimeSpan.FromSeconds(10),
        RestartWindow = TimeSpan.FromMinutes(5), StableAfter = TimeSpan.FromSeconds(60),
    };

    [Fact]
    public void AfterExit_CrashesInARow_BackoffDoublesUpToTheCap()
    {
        var policy = new RestartPolicy(Options(maxRestarts: 10));
        var history = new RestartHistory();
        var delays = Enumerable.Range(0, 6).Select(i => policy.AfterExit(history, T0.AddSeconds(i), TimeSpan.FromSeconds(1)).Delay.TotalSeconds).ToArray();
        Assert.Equal([1, 2, 4, 8, 10, 10], delays);
    }

    [Fact]
    public void AfterExit_AfterAStableRun_StartsFromTheFirstBackoff()
    {
        var policy = new RestartPolicy(Options());
        var history = new RestartHistory();
        policy.AfterExit(history, T0, TimeSpan.FromSeconds(1));
        policy.AfterExit(history, T0.AddSeconds(5), TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), policy.AfterExit(history, T0.AddSeconds(100), TimeSpan.FromSeconds(90)).Delay);
    }

    [Fact]
    public void AfterExit_TooManyRestartsInTheWindow_GivesUp()
    {
        var policy = new RestartPolicy(Options(maxRestarts: 3));
        var history = new RestartHistory();
        for (var i = 0; i < 3; i++) Assert.False(policy.AfterExit(history, T0.AddSeconds(i), TimeSpan.Zero).GiveUp);
        Assert.True(policy.AfterExit(history, T0.AddSeconds(4), TimeSpan.Zero).GiveUp);
    }

    [Fact]
    public void AfterExit_OldRestartsLeftTheWindow_RestartsAgain()
    {
        var policy = new RestartPolicy(Options(maxRestarts: 2));
        var history = new RestartHistory();
        policy.AfterExit(history, T0, TimeSpan.Zero);
        policy.AfterExit(history, T0.AddSeconds(1), TimeSpan.Zero);
        Assert.False(policy.AfterExit(history, T0.AddMinutes(6), TimeSpan.Zero).GiveUp);
    }
}
