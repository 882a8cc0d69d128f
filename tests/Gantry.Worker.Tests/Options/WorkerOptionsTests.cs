namespace Gantry.Worker.Tests.Options;

public sealed class WorkerOptionsTests
{
    [Fact]
    public void Validate_Defaults_Valid()
    {
        var options = new WorkerOptions();

        options.Validate();
        Assert.Equal(10, options.EffectiveCapacity);
    }

    [Fact]
    public void EffectiveCapacity_NotSet_SumOfQueues() =>
        Assert.Equal(5, new WorkerOptions { Queues = new Dictionary<string, int> { ["a"] = 2, ["b"] = 3 } }.EffectiveCapacity);

    public static TheoryData<string, WorkerOptions> Invalid => new()
    {
        { "queues", new WorkerOptions { Queues = new Dictionary<string, int>() } },
        { "queues", new WorkerOptions { Queues = new Dictionary<string, int> { ["a"] = 0 } } },
        { "capacity", new WorkerOptions { Capacity = 0 } },
        { "heartbeat interval", new WorkerOptions { HeartbeatInterval = TimeSpan.FromSeconds(30), LeaseDuration = TimeSpan.FromSeconds(30) } },
        { "heartbeat interval", new WorkerOptions { HeartbeatInterval = TimeSpan.Zero } },
        // Unrenewed attempts stop 3 s (kill grace and clock allowance) before their leases end: a heartbeat must fit before that.
        { "lease duration", new WorkerOptions { HeartbeatInterval = TimeSpan.FromSeconds(5), LeaseDuration = TimeSpan.FromSeconds(6) } },
        { "lease duration", new WorkerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(500), LeaseDuration = TimeSpan.FromSeconds(2) } },
        { "poll interval", new WorkerOptions { PollInterval = TimeSpan.Zero } },
        { "command poll interval", new WorkerOptions { CommandPollInterval = TimeSpan.Zero } },
        { "drain timeout", new WorkerOptions { DrainTimeout = TimeSpan.FromSeconds(-1) } },
        { "cancel grace period", new WorkerOptions { CancelGracePeriod = TimeSpan.FromSeconds(-1) } },
        { "progress interval", new WorkerOptions { ProgressInterval = TimeSpan.FromSeconds(-1) } },
        { "default job timeout", new WorkerOptions { DefaultJobTimeout = TimeSpan.Zero } },
        { "checkpoint interval", new WorkerOptions { CheckpointInterval = TimeSpan.Zero } },
        { "max checkpoint bytes", new WorkerOptions { MaxCheckpointBytes = 0 } },
        { "max prefetch", new WorkerOptions { MaxPrefetch = -1 } },
        // Longer than a timer waits (Timers.Longest), or than a lease may be on any link (LeaseRange).
        { "drain timeout", new WorkerOptions { DrainTimeout = TimeSpan.FromDays(25) } },
        { "poll interval", new WorkerOptions { PollInterval = TimeSpan.FromDays(25) } },
        { "cancel grace period", new WorkerOptions { CancelGracePeriod = TimeSpan.FromDays(25) } },
        { "lease duration", new WorkerOptions { LeaseDuration = TimeSpan.FromDays(2), HeartbeatInterval = TimeSpan.FromSeconds(5) } },
    };

    [Fact]
    public void Validate_LeaseLeavingAHeartbeatBeforeTheStopMargin_Valid() =>
        new WorkerOptions { HeartbeatInterval = TimeSpan.FromSeconds(2), LeaseDuration = TimeSpan.FromSeconds(6) }.Validate();

    [Theory]
    [InlineData(30_000, 5_000)] // the default lease: the usual 5 s
    [InlineData(6_000, 1_000)] // a third of what is left before the stop, 3 s ahead of the lease's end
    [InlineData(3_300, 250)] // never below 250 ms
    public void EffectiveHeartbeatInterval_NotGiven_DerivedFromTheLease(int leaseMs, int heartbeatMs)
    {
        var options = new WorkerOptions { LeaseDuration = TimeSpan.FromMilliseconds(leaseMs) };

        options.Validate();
        Assert.Null(options.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(heartbeatMs), options.EffectiveHeartbeatInterval);
    }

    [Fact]
    public void EffectiveHeartbeatInterval_Given_UsedAsIs() =>
        Assert.Equal(TimeSpan.FromSeconds(2), new WorkerOptions { LeaseDuration = TimeSpan.FromSeconds(6), HeartbeatInterval = TimeSpan.FromSeconds(2) }.EffectiveHeartbeatInterval);

    [Fact]
    public void Validate_LeaseTooShortEvenForTheLeastDerivedHeartbeat_ThrowsNamingBoth()
    {
        var ex = Assert.Throws<InvalidInputException>(new WorkerOptions { LeaseDuration = TimeSpan.FromMilliseconds(3200) }.Validate);

        Assert.Equal("lease duration", ex.Where);
        Assert.Contains("(3.2s) must be at least the heartbeat interval (0.25s, the least derived from a lease) plus 3s", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_Invalid_ThrowsNamingOption(string where, WorkerOptions options)
    {
        var ex = Assert.Throws<InvalidInputException>(options.Validate);

        Assert.Equal(where, ex.Where);
    }
}
