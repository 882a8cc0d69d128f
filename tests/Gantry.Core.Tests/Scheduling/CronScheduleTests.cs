using Gantry.Scheduling;

namespace Gantry.Core.Tests.Scheduling;

public class CronScheduleTests
{
    [Theory]
    [InlineData("0 3 * * *", "2026-01-31T09:30:00Z", "2026-02-01T03:00:00Z")]
    [InlineData("*/15 * * * * *", "2026-01-31T09:30:07Z", "2026-01-31T09:30:15Z")]
    [InlineData("@hourly", "2026-01-31T09:30:00Z", "2026-01-31T10:00:00Z")]
    [InlineData("@daily", "2026-01-31T09:30:00Z", "2026-02-01T00:00:00Z")]
    [InlineData("@weekly", "2026-01-31T09:30:00Z", "2026-02-01T00:00:00Z")]
    [InlineData("@monthly", "2026-01-31T09:30:00Z", "2026-02-01T00:00:00Z")]
    public void Next_FiveSixFieldsAndMacros(string expression, string after, string expected)
    {
        var cron = CronSchedule.Parse(expression, "UTC");
        Assert.Equal(DateTimeOffset.Parse(expected), cron.Next(DateTimeOffset.Parse(after)));
    }

    [Fact]
    public void Next_InZone_LocalTime()
    {
        var cron = CronSchedule.Parse("0 3 * * *", "Europe/Berlin");
        Assert.Equal(DateTimeOffset.Parse("2026-02-01T02:00:00Z"), cron.Next(DateTimeOffset.Parse("2026-01-31T09:30:00Z")));
    }

    [Fact]
    public void Next_SpringForward_NonexistentTimeFiresAtTheTransition()
    {
        // Europe/Berlin, 2026-03-29: 02:00 local jumps to 03:00 (01:00 UTC). 02:30 does not exist that day.
        var cron = CronSchedule.Parse("30 2 * * *", "Europe/Berlin");
        Assert.Equal(DateTimeOffset.Parse("2026-03-29T01:00:00Z"), cron.Next(DateTimeOffset.Parse("2026-03-28T12:00:00Z")));
    }

    [Fact]
    public void Next_FallBack_AmbiguousTimeFiresOnce()
    {
        // Europe/Berlin, 2026-10-25: 03:00 local falls back to 02:00, so 02:30 happens twice (00:30 and 01:30 UTC).
        var cron = CronSchedule.Parse("30 2 * * *", "Europe/Berlin");
        var fires = cron.NextMany(DateTimeOffset.Parse("2026-10-24T12:00:00Z"), 2);
        Assert.Equal([DateTimeOffset.Parse("2026-10-25T00:30:00Z"), DateTimeOffset.Parse("2026-10-26T01:30:00Z")], fires);
    }

    [Theory]
    [InlineData("61 * * * *", "cron")]
    [InlineData("* * * *", "cron")]
    [InlineData("* * * * * * *", "cron")]
    [InlineData("", "cron")]
    [InlineData("@often", "cron")]
    public void Parse_BadExpression_NamesCron(string expression, string field)
    {
        var ex = Assert.Throws<InvalidInputException>(() => CronSchedule.Parse(expression, "UTC"));
        Assert.Equal(field, ex.Field);
    }

    [Fact]
    public void Parse_UnknownZone_NamesTz()
    {
        var ex = Assert.Throws<InvalidInputException>(() => CronSchedule.Parse("0 3 * * *", "Mars/Olympus"));
        Assert.Equal("tz", ex.Field);
        Assert.Contains("Mars/Olympus", ex.Message);
    }

    [Fact]
    public void LastMany_OldestFirst_WithinRange()
    {
        var cron = CronSchedule.Parse("0 * * * *", "UTC");
        var t = DateTimeOffset.Parse("2026-01-31T00:00:00Z");
        Assert.Equal([t.AddHours(4), t.AddHours(5)], cron.LastMany(t, t.AddHours(5).AddMinutes(30), 2));
        Assert.Equal([t.AddHours(1)], cron.LastMany(t, t.AddHours(1), 5));
    }
}
