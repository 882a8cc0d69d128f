using Gantry.Jobs;

namespace Gantry.Core.Tests.Jobs;

public sealed class JobIdsTests
{
    [Fact]
    public void New_Always_IsUuidVersion7()
    {
        for (var i = 0; i < 100; i++) Assert.Equal(7, JobIds.New().Version);
    }

    [Fact]
    public void New_LaterTime_SortsAfter()
    {
        var t = new DateTimeOffset(2026, 1, 31, 9, 30, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 50).Select(i => JobIds.New(new FixedTime(t.AddMilliseconds(i)))).ToArray();

        Assert.Equal(ids, ids.OrderBy(id => id.ToString(), StringComparer.Ordinal));
        Assert.Equal(ids.Length, ids.Distinct().Count());
    }

    [Fact]
    public void Parse_Uuid_ReturnsIt()
    {
        var id = JobIds.New();
        Assert.Equal(id, JobIds.Parse($"  {id}  "));
    }

    [Fact]
    public void Parse_NotAUuid_ThrowsNamingText()
    {
        var ex = Assert.Throws<InvalidInputException>(() => JobIds.Parse("nope", "job"));
        Assert.Equal("job", ex.Where);
        Assert.Contains("'nope'", ex.Message, StringComparison.Ordinal);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
