using Gantry.Protocol;

namespace Gantry.Core.Tests.Protocol;

/// <summary>The three shapes a job document may take, and errors that say where they are.</summary>
public sealed class JobDocumentReaderFormatTests
{
    private static IReadOnlyList<Gantry.Jobs.NewJob> Read(string text, JobLimits? limits = null) =>
        JobDocumentReader.ReadMany(text, "job.json", limits ?? JobLimits.Default);

    private static InvalidInputException Rejected(string text, JobLimits? limits = null) =>
        Assert.Throws<InvalidInputException>(() => Read(text, limits));

    [Fact]
    public void ReadMany_SingleObject_OneJob()
    {
        var job = Assert.Single(Read("""{"version":"1","type":"echo","payload":{"a":1}}"""));

        Assert.Equal("echo", job.Type);
        Assert.Equal("""{"a":1}""", job.Payload);
        Assert.Equal("default", job.Queue);
        Assert.Equal(7, job.Id.Version);
    }

    [Fact]
    public void ReadMany_PrettyPrintedObject_OneJob()
    {
        var job = Assert.Single(Read("{\n  \"type\": \"echo\",\n  \"payload\": {\n    \"a\": 1\n  }\n}\n"));

        Assert.Equal("echo", job.Type);
    }

    [Fact]
    public void ReadMany_Array_EveryJobInOrder()
    {
        var jobs = Read("""[{"type":"a"},{"type":"b","queue":"q2"},{"type":"c"}]""");

        Assert.Equal(["a", "b", "c"], jobs.Select(j => j.Type));
        Assert.Equal("q2", jobs[1].Queue);
        Assert.Equal(3, jobs.Select(j => j.Id).Distinct().Count());
    }

    [Fact]
    public void ReadMany_JsonLines_EveryLine()
    {
        var jobs = Read("{\"type\":\"a\"}\r\n\n{\"type\":\"b\",\"priority\":5}\n");

        Assert.Equal(["a", "b"], jobs.Select(j => j.Type));
        Assert.Equal(5, jobs[1].Priority);
    }

    [Fact]
    public void ReadMany_JsonLinesUnknownField_NamesFieldAndLine()
    {
        var ex = Rejected("{\"type\":\"a\"}\n{\"type\":\"b\",\"colour\":\"red\"}\n");

        Assert.Equal("job.json line 2", ex.Where);
        Assert.Contains("unknown field 'colour'", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("job.json line 2: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMany_JsonLinesAfterBlankLine_CountsPhysicalLines()
    {
        var ex = Rejected("{\"type\":\"a\"}\n\n{\"type\":\"b\",\"bogus\":1}");

        Assert.Equal("job.json line 3", ex.Where);
    }

    [Fact]
    public void ReadMany_ArrayUnknownField_NamesIndex()
    {
        var ex = Rejected("""[{"type":"a"},{"type":"b","nope":true}]""");

        Assert.Equal("job.json[1]", ex.Where);
        Assert.Contains("unknown field 'nope'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMany_MalformedObject_GivesLineAndColumn()
    {
        var ex = Rejected("{\n  \"type\": \"echo\",\n  \"priority\": ,\n}");

        Assert.Equal("job.json", ex.Where);
        Assert.Contains("malformed JSON (line 3, column", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMany_MalformedJsonLine_GivesLine()
    {
        var ex = Rejected("{\"type\":\"a\"}\n{\"type\":\"b\"\n");

        Assert.Contains("malformed JSON (line 2, column", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMany_NonObjectInArray_Rejected()
    {
        var ex = Rejected("""[{"type":"a"}, 42]""");

        Assert.Equal("job.json[1]", ex.Where);
        Assert.Contains("must be a JSON object, got a number", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n  ")]
    public void ReadMany_Empty_Rejected(string text) =>
        Assert.Contains("empty", Rejected(text).Message, StringComparison.Ordinal);

    [Fact]
    public void ReadMany_EmptyArray_HoldsNoJob() =>
        Assert.Contains("holds no job document", Rejected("[]").Message, StringComparison.Ordinal);

    [Fact]
    public void ReadMany_OverBatchLimit_Rejected()
    {
        var ex = Rejected("""[{"type":"a"},{"type":"b"},{"type":"c"}]""", new JobLimits { MaxBatch = 2 });

        Assert.Equal("job.json", ex.Where);
        Assert.Contains("over the batch limit of 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMany_AtBatchLimit_Accepted() =>
        Assert.Equal(2, Read("""[{"type":"a"},{"type":"b"}]""", new JobLimits { MaxBatch = 2 }).Count);

    [Fact]
    public void ReadMany_OneInvalidJob_NothingReturned()
    {
        var ex = Rejected("""[{"type":"a"},{"type":"b","priority":"high"}]""");

        Assert.Equal("job.json[1].priority", ex.Where);
    }

    [Fact]
    public void ReadMany_NestedTooDeep_Rejected()
    {
        var payload = new string('[', 10) + new string(']', 10);
        var ex = Rejected($$"""{"type":"a","payload":{{payload}}}""", new JobLimits { MaxDepth = 5 });

        Assert.Contains("malformed JSON", ex.Message, StringComparison.Ordinal);
    }
}
