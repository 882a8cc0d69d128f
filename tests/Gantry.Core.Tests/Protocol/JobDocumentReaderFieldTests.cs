using Gantry.Protocol;

namespace Gantry.Core.Tests.Protocol;

/// <summary>Field values of a v1 job document: types, ranges and limits.</summary>
public sealed class JobDocumentReaderFieldTests
{
    private static Gantry.Jobs.NewJob ReadOne(string text, JobLimits? limits = null) =>
        Assert.Single(JobDocumentReader.ReadMany(text, "job.json", limits ?? JobLimits.Default));

    private static InvalidInputException Rejected(string text, JobLimits? limits = null) =>
        Assert.Throws<InvalidInputException>(() => JobDocumentReader.ReadMany(text, "job.json", limits ?? JobLimits.Default));

    [Fact]
    public void ReadMany_EveryField_Read()
    {
        var job = ReadOne("""
            {"version":"1","type":"report.build","payload":[1,2],"queue":"reports","priority":-3,
             "run_at":"2026-01-31T09:30:00+02:00","timeout_seconds":1.5,"max_attempts":7,
             "backoff":{"base_seconds":2,"max_seconds":60},"idempotency_key":"k-1",
             "tags":{"team":"billing"},"required_capabilities":["gpu"," gpu","ssd"]}
            """);

        Assert.Equal("report.build", job.Type);
        Assert.Equal("[1,2]", job.Payload);
        Assert.Equal("reports", job.Queue);
        Assert.Equal(-3, job.Priority);
        Assert.Equal(new DateTimeOffset(2026, 1, 31, 7, 30, 0, TimeSpan.Zero), job.RunAt);
        Assert.Equal(TimeSpan.FromSeconds(1.5), job.Timeout);
        Assert.Equal(7, job.MaxAttempts);
        Assert.Equal(TimeSpan.FromSeconds(2), job.Backoff.Base);
        Assert.Equal(TimeSpan.FromSeconds(60), job.Backoff.Max);
        Assert.Equal("k-1", job.IdempotencyKey);
        Assert.Equal("billing", job.Tags["team"]);
        Assert.Equal(["gpu", "ssd"], job.RequiredCapabilities);
    }

    [Theory]
    [InlineData("""{"type":"echo","idempotency_key":"k\u0000"}""", "job.json.idempotency_key")]
    [InlineData("""{"type":"echo","tags":{"team":"a\u0000"}}""", "job.json.tags.team")]
    [InlineData("""{"type":"echo","tags":{"te\u0000am":"a"}}""", "job.json.tags")]
    [InlineData("""{"type":"echo","required_capabilities":["\u0000"]}""", "job.json.required_capabilities[0]")]
    public void ReadMany_NulInATextField_RejectedNamingIt(string text, string where)
    {
        var ex = Rejected(text);
        Assert.Equal(where, ex.Where);
        Assert.Contains("NUL", ex.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"echo","type":"sleep"}""")]
    [InlineData("""{"type":"echo","tags":{"a":"1","a":"2"}}""")]
    [InlineData("""{"type":"echo","payload":{"x":1,"x":2}}""")]
    public void ReadMany_KeyGivenTwice_Rejected(string text) =>
        Assert.Contains("Duplicate property", Rejected(text).Problem, StringComparison.Ordinal);

    [Fact]
    public void ReadMany_OptionalFieldsNull_AsNotGiven()
    {
        var job = ReadOne("""
            {"type":"echo","payload":null,"queue":null,"priority":null,"run_at":null,"timeout_seconds":null,"max_attempts":null,
             "backoff":null,"idempotency_key":null,"tags":null,"required_capabilities":null,"checkpoint_interval_seconds":null}
            """);
        Assert.Equal("default", job.Queue);
        Assert.Equal("{}", job.Payload);
        Assert.Null(job.IdempotencyKey);
        Assert.Equal("type", Rejected("""{"type":null}""").Where.Split('.')[^1]);
    }

    [Fact]
    public void ReadMany_OnlyType_Defaults()
    {
        var job = ReadOne("""{"type":"echo"}""");

        Assert.Equal("{}", job.Payload);
        Assert.Equal(Gantry.Jobs.NewJob.MaxAttemptsDefault, job.MaxAttempts);
        Assert.Equal(Gantry.Jobs.Backoff.Default, job.Backoff);
        Assert.Null(job.Timeout);
        Assert.Null(job.RunAt);
        Assert.Empty(job.Tags);
    }

    [Fact]
    public void ReadMany_NumericVersionOne_Accepted() =>
        Assert.Equal("echo", ReadOne("""{"version":1,"type":"echo"}""").Type);

    [Theory]
    [InlineData("\"2\"")]
    [InlineData("2")]
    [InlineData("\"1.0\"")]
    [InlineData("null")]
    public void ReadMany_OtherVersion_Rejected(string version)
    {
        var ex = Rejected($$"""{"version":{{version}},"type":"echo"}""");

        Assert.Equal("job.json.version", ex.Where);
        Assert.Contains("unsupported protocol version", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"payload":{}}""")]
    [InlineData("""{"type":"  "}""")]
    public void ReadMany_MissingType_Rejected(string text)
    {
        var ex = Rejected(text);

        Assert.Equal("job.json.type", ex.Where);
        Assert.Contains("is required", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":7}""", "job.json.type", "expected a string, got a number")]
    [InlineData("""{"type":"a","priority":"high"}""", "job.json.priority", "expected an integer, got a string")]
    [InlineData("""{"type":"a","priority":1.5}""", "job.json.priority", "whole number")]
    [InlineData("""{"type":"a","max_attempts":true}""", "job.json.max_attempts", "got a boolean")]
    [InlineData("""{"type":"a","timeout_seconds":"10"}""", "job.json.timeout_seconds", "expected a number")]
    [InlineData("""{"type":"a","run_at":"tomorrow"}""", "job.json.run_at", "not an ISO 8601 timestamp")]
    [InlineData("""{"type":"a","tags":{"x":1}}""", "job.json.tags.x", "expected a string")]
    [InlineData("""{"type":"a","tags":[]}""", "job.json.tags", "expected an object")]
    [InlineData("""{"type":"a","required_capabilities":["gpu",3]}""", "job.json.required_capabilities[1]", "expected a string")]
    [InlineData("""{"type":"a","backoff":5}""", "job.json.backoff", "must be an object")]
    [InlineData("""{"type":"a","backoff":{"base":1}}""", "job.json.backoff", "unknown field 'base'")]
    public void ReadMany_WrongType_RejectedAtField(string text, string where, string problem)
    {
        var ex = Rejected(text);

        Assert.Equal(where, ex.Where);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"a","max_attempts":0}""", "job.json.max_attempts")]
    [InlineData("""{"type":"a","max_attempts":1001}""", "job.json.max_attempts")]
    [InlineData("""{"type":"a","timeout_seconds":0}""", "job.json.timeout_seconds")]
    [InlineData("""{"type":"a","timeout_seconds":-1}""", "job.json.timeout_seconds")]
    [InlineData("""{"type":"a","backoff":{"base_seconds":-1}}""", "job.json.backoff.base_seconds")]
    [InlineData("""{"type":"a","backoff":{"base_seconds":10,"max_seconds":5}}""", "job.json.backoff.max_seconds")]
    [InlineData("""{"type":"bad type"}""", "job.json.type")]
    [InlineData("""{"type":"a","queue":"-q"}""", "job.json.queue")]
    [InlineData("""{"type":"a","idempotency_key":""}""", "job.json.idempotency_key")]
    [InlineData("""{"type":"a","required_capabilities":[" "]}""", "job.json.required_capabilities[0]")]
    public void ReadMany_OutOfRange_RejectedAtField(string text, string where) =>
        Assert.Equal(where, Rejected(text).Where);

    [Fact]
    public void ReadMany_PayloadOverLimit_Rejected()
    {
        var ex = Rejected("""{"type":"a","payload":{"data":"0123456789"}}""", new JobLimits { MaxPayloadBytes = 10 });

        Assert.Equal("job.json.payload", ex.Where);
        Assert.Contains("over the limit of 10 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadMany_PayloadAtLimit_Accepted() =>
        Assert.Equal("""{"d":"12"}""", ReadOne("""{"type":"a","payload":{"d":"12"}}""", new JobLimits { MaxPayloadBytes = 10 }).Payload);

    [Fact]
    public void ReadMany_NullPayload_EmptyObject() =>
        Assert.Equal("{}", ReadOne("""{"type":"a","payload":null}""").Payload);

    [Fact]
    public void Validate_WithoutWhere_NamesBareField()
    {
        var ex = Assert.Throws<InvalidInputException>(() => new JobDraft { Type = "a", MaxAttempts = 0 }.Validate(JobLimits.Default, ""));

        Assert.Equal("max_attempts", ex.Where);
    }

    private static readonly JobLimits TypeLimited = JobLimits.Default with
    {
        TypeLimits = new Dictionary<string, Gantry.Jobs.ResourceLimits> { ["resize"] = new() { MemoryMb = 128, Cpu = 1 } },
    };

    [Fact]
    public void Limits_TighterThanTheType_Kept_WiderRefusedNamingTheField()
    {
        var job = ReadOne("""{"type":"resize","limits":{"memory_mb":64,"cpu":0.5,"processes":4}}""", TypeLimited);
        Assert.Equal(new Gantry.Jobs.ResourceLimits { MemoryMb = 64, Cpu = 0.5, Processes = 4 }, job.Limits);
        // The type has no process limit: any is tighter. An empty object is no limit of its own.
        Assert.Null(ReadOne("""{"type":"resize","limits":{}}""", TypeLimited).Limits);

        var wider = Rejected("""{"type":"resize","limits":{"memory_mb":256}}""", TypeLimited);
        Assert.Equal("job.json.limits.memory_mb: 256 is wider than job type 'resize' allows (memory_mb 128); a job may only tighten its type's limits", wider.Message);
        Assert.Contains("limits.cpu", Rejected("""{"type":"resize","limits":{"cpu":2}}""", TypeLimited).Message, StringComparison.Ordinal);
        // A type this submitter does not know the limits of is not checked here (the worker still runs the tighter).
        Assert.Equal(4096, ReadOne("""{"type":"other","limits":{"memory_mb":4096}}""", TypeLimited).Limits!.MemoryMb);
    }

    [Theory]
    [InlineData("""{"type":"resize","limits":{"mem":1}}""", "unknown field 'mem' (known fields: memory_mb, cpu, processes)")]
    [InlineData("""{"type":"resize","limits":{"memory_mb":0}}""", "limits.memory_mb: expected a positive whole number")]
    [InlineData("""{"type":"resize","limits":{"memory_mb":1.5}}""", "limits.memory_mb: expected a positive whole number")]
    [InlineData("""{"type":"resize","limits":{"cpu":-1}}""", "limits.cpu: expected a positive number")]
    [InlineData("""{"type":"resize","limits":64}""", "limits: expected an object")]
    public void Limits_BadValue_RefusedNamingIt(string text, string message) =>
        Assert.Contains(message, Rejected(text).Message, StringComparison.Ordinal);
}
