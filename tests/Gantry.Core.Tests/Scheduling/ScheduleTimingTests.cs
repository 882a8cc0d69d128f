using Gantry.Scheduling;

namespace Gantry.Core.Tests.Scheduling;

public class ScheduleTimingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 31, 9, 30, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    private static (CronSchedule Cron, ScheduleDefinition Def) Minutely(MissedFirePolicy missed, int maxCatchup = 10)
    {
        var def = new ScheduleDefinition { Name = "m", Cron = "* * * * *", Type = "noop", Missed = missed, MaxCatchup = maxCatchup };
        return (def.Validate(Gantry.Protocol.JobLimits.Default), def);
    }

    [Fact]
    public void Due_OnTime_FiresEachDueTime()
    {
        var (cron, def) = Minutely(MissedFirePolicy.Skip);
        var due = ScheduleTiming.Due(cron, def, T0, T0.AddMinutes(1).AddSeconds(2), Grace);
        Assert.Equal([T0.AddMinutes(1)], due.Fires);
        Assert.Null(due.SkipThrough);
        Assert.Equal(0, due.Missed);
    }

    [Fact]
    public void Due_NothingDue_Empty()
    {
        var (cron, def) = Minutely(MissedFirePolicy.All);
        var due = ScheduleTiming.Due(cron, def, T0, T0.AddSeconds(59), Grace);
        Assert.Empty(due.Fires);
        Assert.Equal(0, due.Missed);
    }

    [Fact]
    public void Due_LateWithinGrace_StillFires()
    {
        var (cron, def) = Minutely(MissedFirePolicy.Skip);
        var due = ScheduleTiming.Due(cron, def, T0, T0.AddMinutes(1).AddSeconds(9), Grace);
        Assert.Equal([T0.AddMinutes(1)], due.Fires);
    }

    [Fact]
    public void Due_Skip_AfterDowntime_DropsMissed_FiresNothingUntilNext()
    {
        var (cron, def) = Minutely(MissedFirePolicy.Skip);
        var now = T0.AddMinutes(30).AddSeconds(30);
        var due = ScheduleTiming.Due(cron, def, T0, now, Grace);
        Assert.Empty(due.Fires);
        Assert.Equal(now - Grace, due.SkipThrough);
        Assert.Equal(30, due.Missed);
    }

    [Fact]
    public void Due_Once_AfterDowntime_OneJobForTheLatestMissed()
    {
        var (cron, def) = Minutely(MissedFirePolicy.Once);
        var due = ScheduleTiming.Due(cron, def, T0, T0.AddMinutes(30).AddSeconds(30), Grace);
        Assert.Equal([T0.AddMinutes(30)], due.Fires);
        Assert.Equal(30, due.Missed);
    }

    [Fact]
    public void Due_All_AfterDowntime_TheLatestMaxCatchup()
    {
        var (cron, def) = Minutely(MissedFirePolicy.All, maxCatchup: 3);
        var due = ScheduleTiming.Due(cron, def, T0, T0.AddMinutes(30).AddSeconds(30), Grace);
        Assert.Equal([T0.AddMinutes(28), T0.AddMinutes(29), T0.AddMinutes(30)], due.Fires);
    }

    [Fact]
    public void Due_All_FewerMissedThanMaxCatchup_EachOnce()
    {
        var (cron, def) = Minutely(MissedFirePolicy.All, maxCatchup: 10);
        var due = ScheduleTiming.Due(cron, def, T0, T0.AddMinutes(3).AddSeconds(30), Grace);
        Assert.Equal([T0.AddMinutes(1), T0.AddMinutes(2), T0.AddMinutes(3)], due.Fires);
    }

    [Fact]
    public void Due_All_YearOfSecondsMissed_LooksBackCheaply()
    {
        var def = new ScheduleDefinition { Name = "s", Cron = "* * * * * *", Type = "noop", Missed = MissedFirePolicy.All, MaxCatchup = 5 };
        var cron = def.Validate(Gantry.Protocol.JobLimits.Default);
        var now = T0.AddDays(365);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var due = ScheduleTiming.Due(cron, def, T0, now, Grace);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
        // The latest five missed fires, then the ten within the grace.
        Assert.Equal(Enumerable.Range(0, 5).Select(i => now - Grace - TimeSpan.FromSeconds(4 - i)), due.Fires.Take(5));
        Assert.Equal(15, due.Fires.Count);
    }

    [Fact]
    public void Due_ClockSteppedBack_NothingFiresBeforeTheCursor()
    {
        var (cron, def) = Minutely(MissedFirePolicy.All);
        var due = ScheduleTiming.Due(cron, def, T0.AddMinutes(5), T0.AddMinutes(2), Grace);
        Assert.Empty(due.Fires);
        Assert.Null(due.SkipThrough);
    }
}
