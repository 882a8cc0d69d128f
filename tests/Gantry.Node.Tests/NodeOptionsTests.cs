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
