using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Protocol;

namespace Gantry.Core.Tests;

public sealed class QueueLimitsTests
{
    [Theory]
    [InlineData("100/s", 100, 1)]
    [InlineData("600/m", 600, 60)]
    [InlineData(" 1000 / h ", 1000, 3600)]
    public void Rate_Parsed(string text, int count, int seconds)
    {
        var rate = QueueRate.Parse(text, "rate");
        Assert.Equal((count, TimeSpan.FromSeconds(seconds)), (rate.Count, rate.Per));
    }

    [Theory]
    [InlineData("100")]
    [InlineData("100/d")]
    [InlineData("0/s")]
    [InlineData("-5/s")]
    [InlineData("1.5/s")]
    [InlineData("")]
    public void Rate_Malformed_RefusedNamingTheField(string text) =>
        Assert.Equal("--rate", Assert.Throws<InvalidInputException>(() => QueueRate.Parse(text, "--rate")).Where);

    [Fact]
    public void Rate_RoundTrips() => Assert.Equal("600/m", QueueRate.Parse("600/m", "rate").ToString());

    [Fact]
    public void Document_ReadsEachLimit_RefusesUnknownFields()
    {
        var limits = QueueLimitsDocument.Read("""{"concurrency": 3, "per_key": 1, "rate": "5/s", "rate_per_key": "2/m"}""");
        Assert.Equal((3, 1, "5/s", "2/m"), (limits.Concurrency, limits.PerKey, limits.Rate!.ToString(), limits.RatePerKey!.ToString()));
        Assert.True(limits.IsPerKey);
        Assert.True(QueueLimitsDocument.Read("""{"rate_per_key": "1/h"}""").IsPerKey);
        Assert.False(QueueLimitsDocument.Read("""{"rate": "1/h"}""").IsPerKey);
        Assert.Equal("concurrency 3, per key 1, rate 5/s, rate per key 2/m", limits.ToString());
        Assert.Equal(limits, QueueLimitsDocument.Read(System.Text.Encoding.UTF8.GetString(QueueLimitsDocument.Write(limits))));
        Assert.Equal("nope", Assert.Throws<InvalidInputException>(() => QueueLimitsDocument.Read("""{"nope": 1}""")).Field);
    }

    [Theory]
    [InlineData("""{"concurrency": 1e3}""", 1000)]
    [InlineData("""{"concurrency": 1000.0}""", 1000)]
    public void Document_WholeNumberInAnySpelling_Read(string json, int concurrency) =>
        Assert.Equal(concurrency, QueueLimitsDocument.Read(json).Concurrency);

    [Theory]
    [InlineData("""{"concurrency": 99999999999}""", "must be between 1 and 1,000,000")]
    [InlineData("""{"per_key": -99999999999}""", "must be between 1 and 1,000,000")]
    [InlineData("""{"concurrency": 1.5}""", "must be a whole number")]
    [InlineData("""{"concurrency": "3"}""", "must be a whole number")]
    public void Document_BadNumber_SaysWhatIsWrong(string json, string says) =>
        Assert.Contains(says, Assert.Throws<InvalidInputException>(() => QueueLimitsDocument.Read(json).Validated()).Message, StringComparison.Ordinal);

    [Fact]
    public void JobDocument_FlowFields_ReadAndValidated()
    {
        var job = Assert.Single(JobDocumentReader.ReadMany(
            """{"type":"t","idempotency_key":"k","unique_for":600,"unique_while":["queued","running"],"concurrency_key":"acme"}""", "doc", JobLimits.Default));
        Assert.Equal(TimeSpan.FromMinutes(10), job.UniqueFor);
        Assert.Equal([JobState.Queued, JobState.Running], job.UniqueWhile);
        Assert.Equal("acme", job.ConcurrencyKey);

        Assert.Equal("doc.unique_for", Assert.Throws<InvalidInputException>(() => JobDocumentReader.ReadMany("""{"type":"t","unique_for":60}""", "doc", JobLimits.Default)).Where);
        Assert.Equal("doc.unique_while[0]", Assert.Throws<InvalidInputException>(() =>
            JobDocumentReader.ReadMany("""{"type":"t","idempotency_key":"k","unique_while":["pending"]}""", "doc", JobLimits.Default)).Where);
        Assert.Equal("doc.concurrency_key", Assert.Throws<InvalidInputException>(() => JobDocumentReader.ReadMany("""{"type":"t","concurrency_key":""}""", "doc", JobLimits.Default)).Where);
    }
}
