using System.Text.Json;
using Gantry.Protocol;

namespace Gantry.Core.Tests.Protocol;

public sealed class JsonWholeTests
{
    [Theory]
    [InlineData("1000", 1000)]
    [InlineData("1e3", 1000)]
    [InlineData("1000.0", 1000)]
    [InlineData("-7", -7)]
    [InlineData("2147483647", int.MaxValue)]
    public void WholeNumber_InAnySpelling_Read(string json, int expected)
    {
        Assert.True(JsonWhole.TryRead(JsonDocument.Parse(json).RootElement, out var n, out _));
        Assert.Equal(expected, n);
    }

    [Theory]
    [InlineData("1.5", false)]
    [InlineData("\"3\"", false)]
    [InlineData("true", false)]
    [InlineData("2147483648", true)]
    [InlineData("-99999999999", true)]
    public void NotAWholeNumberOfRange_Refused_SayingWhichItIs(string json, bool beyondRange)
    {
        Assert.False(JsonWhole.TryRead(JsonDocument.Parse(json).RootElement, out _, out var beyond));
        Assert.Equal(beyondRange, beyond);
    }

    [Fact]
    public void JobDocument_MaxAttemptsSpelledWithAnExponent_Read() =>
        Assert.Equal(5, Assert.Single(JobDocumentReader.ReadMany("""{"type":"echo","max_attempts":5e0}""", "job.json", JobLimits.Default)).MaxAttempts);
}
