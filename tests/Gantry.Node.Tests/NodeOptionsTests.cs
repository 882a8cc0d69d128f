namespace Gantry.Node.Tests;

public sealed class NodeOptionsTests
{
    private static NodeOptions Options(int leaseMs, int? heartbeatMs = null) => new()
    {
        RunDirectory = "/tmp/gantry-node-options-test",
        WorkerCommand = ["gantry"],
        LeaseDuration = TimeSpan.FromMilliseconds(leaseMs),
        HeartbeatInterval = heartbeatMs is { } h ? TimeSpan.FromMilliseconds(h) : null,
    };

    [Theory]
    [InlineData(30_000, 5_000)] // the default lease: the usual 5 s
    [InlineData(6_000, 750)] // a quarter of what is left before the stop: the node stops its workers' attempts a heartbeat sooner
    [InlineData(3_500, 250)] // never below 250 ms
    public void EffectiveHeartbeatInterval_NotGiven_DerivedFromTheLease(int leaseMs, int heartbeatMs)
    {
        var options = Options(leaseMs);

        options.Validate();
        Assert.Equal(TimeSpan.FromMilliseconds(heartbeatMs), options.EffectiveHeartbeatInterval);
    }

    [Fact]
    public void Validate_GivenHeartbeatConflictingWithTheLease_ThrowsNamingBoth()
    {
        var ex = Assert.Throws<InvalidInputException>(Options(6_000, heartbeatMs: 2_000).Validate);

        Assert.Equal("--lease-duration", ex.Where);
        Assert.Contains("(6s) must be at least twice the heartbeat interval (2s) plus 3s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_LeaseTooShortEvenForTheLeastDerivedHeartbeat_ThrowsNamingBoth()
    {
        var ex = Assert.Throws<InvalidInputException>(Options(3_400).Validate);

        Assert.Equal("--lease-duration", ex.Where);
        Assert.Contains("(3.4s) must be at least twice the heartbeat interval (0.25s, the least derived from a lease) plus 3s", ex.Message, StringComparison.Ordinal);
    }
}

/// <summary>Every setting of <see cref="NodeOptions"/> that can be wrong is refused, naming the setting.</summary>
public sealed class NodeOptionsValidationTests
{
    private static NodeOptions Valid() => new() { RunDirectory = "/tmp/gantry-node-options-test", WorkerCommand = ["gantry"] };

    [Fact]
    public void Validate_Defaults_Valid() => Valid().Validate();

    public static TheoryData<string, NodeOptions> Invalid => new()
    {
        { "--workers", Valid() with { Workers = 0 } },
        { "--min-workers", Valid() with { MinWorkers = -1 } },
        { "--max-workers", Valid() with { MaxWorkers = 0 } },
        { "--min-workers", Valid() with { Workers = 1, MinWorkers = 3, MaxWorkers = 2 } },
        { "--workers", Valid() with { Workers = 5, MinWorkers = 1, MaxWorkers = 2 } },
        { "--max-workers", Valid() with { Workers = 1, MaxWorkers = NodeOptions.MostWorkers + 1 } },
        { "--queues", Valid() with { Queues = new Dictionary<string, int>() } },
        { "--worker-capacity", Valid() with { WorkerCapacity = 0 } },
        { "--restart-backoff", Valid() with { RestartBackoff = TimeSpan.Zero } },
        { "--restart-backoff", Valid() with { RestartBackoff = TimeSpan.FromSeconds(10), RestartBackoffMax = TimeSpan.FromSeconds(5) } },
        { "--max-restarts", Valid() with { MaxRestarts = -1 } },
        { "--ping-interval", Valid() with { PingInterval = TimeSpan.Zero } },
        { "--ping-interval", Valid() with { PingTimeout = TimeSpan.Zero } },
        { "--heartbeat-interval", Valid() with { HeartbeatInterval = TimeSpan.Zero } },
        { "--heartbeat-interval", Valid() with { HeartbeatInterval = NodeOptions.LeaseDurationDefault } },
        { "--lease-duration", Valid() with { LeaseDuration = TimeSpan.FromSeconds(2) } },
        { "command poll interval", Valid() with { CommandPollInterval = TimeSpan.Zero } },
        { "--restart-window", Valid() with { RestartWindow = TimeSpan.Zero } },
        { "--stable-after", Valid() with { StableAfter = TimeSpan.FromSeconds(-1) } },
        { "start timeout", Valid() with { StartTimeout = TimeSpan.Zero } },
        { "--drain-timeout", Valid() with { DrainTimeout = TimeSpan.FromSeconds(-1) } },
        { "--cancel-grace-period", Valid() with { CancelGracePeriod = TimeSpan.FromSeconds(-1) } },
        { "--autoscale-interval", Valid() with { Autoscale = new Gantry.Node.Autoscaling.AutoscaleOptions { Interval = TimeSpan.Zero } } },
        { "--autoscale-target", Valid() with { Autoscale = new Gantry.Node.Autoscaling.AutoscaleOptions { Target = 1.5 } } },
        { "--autoscale-target", Valid() with { Autoscale = new Gantry.Node.Autoscaling.AutoscaleOptions { Target = 0 } } },
        { "--autoscale-idle", Valid() with { Autoscale = new Gantry.Node.Autoscaling.AutoscaleOptions { Target = 0.5, Idle = 0.5 } } },
        { "--autoscale-up-window", Valid() with { Autoscale = new Gantry.Node.Autoscaling.AutoscaleOptions { UpWindow = TimeSpan.FromMilliseconds(500) } } },
        { "--autoscale-down-window", Valid() with { Autoscale = new Gantry.Node.Autoscaling.AutoscaleOptions { Interval = TimeSpan.FromSeconds(10), UpWindow = TimeSpan.FromSeconds(10) } } },
        { "--autoscale-up-cooldown", Valid() with { Autoscale = new Gantry.Node.Autoscaling.AutoscaleOptions { UpCooldown = TimeSpan.FromSeconds(-1) } } },
        { "--name", Valid() with { Name = "two\nlines" } },
        { "worker command", Valid() with { WorkerCommand = [] } },
        { "--run-dir", Valid() with { RunDirectory = "/tmp/" + new string('d', 120) } },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_Invalid_ThrowsNamingTheSetting(string where, NodeOptions options)
    {
        var ex = Assert.Throws<InvalidInputException>(options.Validate);

        Assert.Equal(where, ex.Where);
        Assert.StartsWith(where + ":", ex.Message, StringComparison.Ordinal);
    }
}
