using Gantry.Node.Autoscaling;

namespace Gantry.Node.Tests.Autoscaling;

public sealed class AutoscalerTests
{
    [Fact]
    public void Decide_BusyWithBacklog_ScalesUpWithinThreeSamples()
    {
        var scaler = new Autoscaler(min: 1, max: 8, workerCapacity: 4);
        var decisions = Enumerable.Range(0, 3).Select(_ => scaler.Decide(1, new LoadSample(1.0, 10))).ToArray();
        Assert.Equal(1, decisions[0]);
        Assert.Equal(1, decisions[1]);
        Assert.Equal(1 + 10 / 4, decisions[2]);
    }

    [Fact]
    public void Decide_BusyWithLargeBacklog_CappedAtMax()
    {
        var scaler = new Autoscaler(min: 1, max: 4, workerCapacity: 4);
        for (var i = 0; i < 2; i++) scaler.Decide(2, new LoadSample(0.9, 1000));
        Assert.Equal(4, scaler.Decide(2, new LoadSample(0.9, 1000)));
    }

    [Fact]
    public void Decide_BusyWithoutBacklog_Stays()
    {
        var scaler = new Autoscaler(min: 1, max: 8, workerCapacity: 4);
        for (var i = 0; i < 10; i++) Assert.Equal(2, scaler.Decide(2, new LoadSample(1.0, 0)));
    }

    [Fact]
    public void Decide_IdleForEightSamples_ScalesDownByOneThenCoolsDown()
    {
        var scaler = new Autoscaler(min: 1, max: 8, workerCapacity: 4);
        var decisions = Enumerable.Range(0, AutoscaleOptions.Default.DownSamples).Select(_ => scaler.Decide(4, new LoadSample(0.1, 0))).ToArray();
        Assert.All(decisions[..^1], d => Assert.Equal(4, d));
        Assert.Equal(3, decisions[^1]);
        Assert.Equal(3, scaler.Decide(3, new LoadSample(0, 0)));
    }

    [Fact]
    public void Decide_AtMin_NeverBelow()
    {
        var scaler = new Autoscaler(min: 2, max: 8, workerCapacity: 4);
        for (var i = 0; i < 30; i++) Assert.Equal(2, scaler.Decide(2, new LoadSample(0, 0)));
    }
}
