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
    public void New_ManyInOneMillisecond_StrictlyIncreaseInByteOrder()
    {
        // A stuck clock stands for a burst within one millisecond: the counter keeps the order.
        var stuck = new FixedTime(DateTimeOffset.UtcNow);
        var ids = Enumerable.Range(0, 10_000).Select(_ => JobIds.New(stuck)).ToArray();

        for (var i = 1; i < ids.Length; i++)
            Assert.True(string.CompareOrdinal(ids[i - 1].ToString(), ids[i].ToString()) < 0, $"id {i} does not sort after id {i - 1}");
        Assert.All(ids, id => Assert.Equal(7, id.Version));
        Assert.All(ids, id => Assert.Equal(0x8, id.ToByteArray(bigEndian: true)[8] >> 4 & 0xC));
    }

    [Fact]
    public void New_FromManyThreads_AllDistinct()
    {
        var ids = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        Parallel.For(0, 4, _ => { for (var i = 0; i < 5_000; i++) ids.Add(JobIds.New()); });

        Assert.Equal(20_000, ids.Distinct().Count());
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
