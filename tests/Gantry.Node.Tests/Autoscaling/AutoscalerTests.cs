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

    [Fact]
    public void Decide_CustomTargetAndWindows_ScalesUpAfterUpWindowWithTheFigures()
    {
        var options = new AutoscaleOptions { Target = 0.5, Interval = TimeSpan.FromMilliseconds(500), UpWindow = TimeSpan.FromSeconds(1), UpCooldown = TimeSpan.FromSeconds(2) };
        var scaler = new Autoscaler(min: 1, max: 8, workerCapacity: 4, options);

        // 0.6 is below the default target (0.75) but above this one: two samples (1 s at 500 ms) decide.
        Assert.Equal(1, scaler.Decide(1, new LoadSample(0.6, 8)));
        Assert.Equal(3, scaler.Decide(1, new LoadSample(0.7, 8)));

        var d = Assert.IsType<AutoscaleDecision>(scaler.LastDecision);
        Assert.Equal((1, 3, 2, 0.6, 0.7, 8L), (d.From, d.To, d.Samples, d.LowestUtilisation, d.HighestUtilisation, d.Backlog));
        Assert.Equal(TimeSpan.FromSeconds(2), d.Cooldown);
        Assert.Contains("at or above the target 50", d.Why, StringComparison.Ordinal);
        // The cooldown: four samples of 500 ms with no change, however busy.
        for (var i = 0; i < 4; i++) Assert.Equal(3, scaler.Decide(3, new LoadSample(1.0, 100)));
    }

    [Fact]
    public void Decide_CustomIdleAndDownWindow_ScalesDownAfterDownWindow()
    {
        var options = new AutoscaleOptions { Idle = 0.5, DownWindow = TimeSpan.FromSeconds(2), DownCooldown = TimeSpan.Zero };
        var scaler = new Autoscaler(min: 1, max: 8, workerCapacity: 4, options);

        Assert.Equal(4, scaler.Decide(4, new LoadSample(0.4, 0)));
        Assert.Equal(3, scaler.Decide(4, new LoadSample(0.45, 0)));
        Assert.Equal(3, scaler.LastDecision!.To);
        Assert.Contains("below 50", scaler.LastDecision.Why, StringComparison.Ordinal);
        // No cooldown, but the window starts afresh after a change.
        Assert.Equal(3, scaler.Decide(3, new LoadSample(0.1, 0)));
        Assert.Equal(2, scaler.Decide(3, new LoadSample(0.1, 0)));
    }

    [Fact]
    public void Options_WindowsInSamples_RoundedUpAtLeastOne()
    {
        var options = new AutoscaleOptions { Interval = TimeSpan.FromSeconds(2), UpWindow = TimeSpan.FromSeconds(3), DownWindow = TimeSpan.FromSeconds(2), UpCooldown = TimeSpan.Zero };
        Assert.Equal(2, options.UpSamples);
        Assert.Equal(1, options.DownSamples);
        Assert.Equal(0, options.UpCooldownSamples);
        Assert.Equal((3, 8, 3, 3), (AutoscaleOptions.Default.UpSamples, AutoscaleOptions.Default.DownSamples, AutoscaleOptions.Default.UpCooldownSamples, AutoscaleOptions.Default.DownCooldownSamples));
    }
}
