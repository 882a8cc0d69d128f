using Gantry.Storage;

namespace Gantry.Cli.Tests;

/// <summary>Every user mistake gets one clear line, a non-zero exit code, no stack trace, and leaves the store unchanged.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<(int ExitCode, string Stdout, string Stderr)> Gantry(params string[] args) => GantryProcess.RunAsync(_dir.Path, null, args);

    private static void AssertOneCleanLine(string stderr, string expected)
    {
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stderr, StringComparison.Ordinal);
    }

    private async Task AssertNoJobsAsync()
    {
        if (!File.Exists(_dir.Db)) return;
        var stats = await StoreProbe.WithStoreAsync(_dir.Db, s => s.QueueStatsAsync(CancellationToken.None));
        Assert.Empty(stats);
    }

    [Fact]
    public async Task Submit_MalformedPayload_ExplainsAndEnqueuesNothing()
    {
        var (code, _, err) = await Gantry("submit", "echo", "{\"a\":", "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "payload: malformed JSON");
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Submit_UnknownType_ListsKnownTypes()
    {
        var (code, _, err) = await Gantry("submit", "no-such-type", "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "unknown job type 'no-such-type'; known types: count, echo, fail, noop, sleep");
        await AssertNoJobsAsync();
    }

    [Theory]
    [InlineData("--unique-while")]
    [InlineData("--require")]
    public async Task Submit_ListFlagNamingNothing_UsageErrorNamesTheFlag(string flag)
    {
        var (code, _, err) = await Gantry("submit", "echo", "--idempotency-key", "k", flag, " , ", "--db", _dir.Db);
        Assert.Equal(2, code);
        AssertOneCleanLine(err, $"{flag}: ' , ' names nothing");
        await AssertNoJobsAsync();
    }

    // The job's rules are checked once, by the job document, which names its fields (max_attempts); on the command line
    // an error about a field a flag set names the flag. Flags override a file's documents, so the same holds with --file.
    [Theory]
    [InlineData(new[] { "--queue", "a b" }, "--queue: 'a b' is not a valid name")]
    [InlineData(new[] { "--timeout", "0s" }, "--timeout: must be a positive number of seconds")]
    [InlineData(new[] { "--idempotency-key", "" }, "--idempotency-key: must be 1 to 255 characters")]
    [InlineData(new[] { "--unique-for", "10m" }, "--unique-for: needs an idempotency_key")]
    [InlineData(new[] { "--unique-while", "queued" }, "--unique-while: needs an idempotency_key")]
    [InlineData(new[] { "--idempotency-key", "k", "--unique-while", "queued,later" }, "--unique-while: 'later' is not a job state")]
    [InlineData(new[] { "--concurrency-key", "" }, "--concurrency-key: must be 1 to 255 characters")]
    [InlineData(new[] { "--tags", " =x" }, "--tags: ")]
    public async Task Submit_FlagValueTheJobRulesRefuse_OneLineNamingTheFlag(string[] flags, string error)
    {
        var (code, _, err) = await Gantry(["submit", "echo", .. flags, "--db", _dir.Db]);
        Assert.NotEqual(0, code);
        AssertOneCleanLine(err, "gantry: " + error);
        await AssertNoJobsAsync();

        File.WriteAllText(_dir.File("job.json"), """{"type":"echo","queue":"fine"}""");
        (code, _, err) = await Gantry(["submit", "--file", _dir.File("job.json"), .. flags, "--db", _dir.Db]);
        Assert.NotEqual(0, code);
        AssertOneCleanLine(err, "gantry: " + error);
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Submit_FileFieldNoFlagSet_ErrorNamesTheDocumentsField()
    {
        File.WriteAllText(_dir.File("job.json"), """{"type":"echo","queue":"a b","max_attempts":5000}""");
        var (code, _, err) = await Gantry("submit", "--file", _dir.File("job.json"), "--max-attempts", "3", "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "gantry: job.json.queue: 'a b' is not a valid name");
        await AssertNoJobsAsync();
    }

    [Theory]
    [InlineData("--max-attempts", "5000", "--max-attempts: '5000' is out of range; it must be from 1 to 1000")]
    [InlineData("--priority", "99999999999", "--priority: '99999999999' is out of range; it must be at most 2147483647")]
    [InlineData("--priority", "-99999999999", "--priority: '-99999999999' is out of range; it must be at least -2147483648")]
    public async Task Submit_NumberBeyondTheJobsRange_UsageErrorNamingTheFlag(string flag, string value, string error)
    {
        var (code, _, err) = await Gantry("submit", "echo", flag, value, "--db", _dir.Db);
        Assert.Equal(2, code);
        AssertOneCleanLine(err, error);
        await AssertNoJobsAsync();
    }

    // A schedule's name or a worker's id that none can have is refused before any link: through a server it used to make
    // a path with an empty segment (no route), on a store it said "no schedule named " (nothing named).
    [Theory]
    [InlineData("cron", "remove", "", "gantry: name: is required")]
    [InlineData("cron", "show", " ", "gantry: name: is required")]
    [InlineData("cron", "pause", "a b", "gantry: name: 'a b' is not a valid schedule name")]
    [InlineData("workers", "drain", "", "gantry: id: is required")]
    [InlineData("workers", "shutdown", " ", "gantry: id: is required")]
    public async Task NameNoneCanHave_RefusedOnEveryLink_NamingTheArgument(string command, string sub, string name, string error)
    {
        foreach (var link in new[] { new[] { "--db", _dir.Db }, ["--server", "http://127.0.0.1:1"] })
        {
            var (code, stdout, err) = await Gantry([command, sub, name, .. link]);
            Assert.Equal((2, ""), (code, stdout));
            AssertOneCleanLine(err, error);
        }
    }

    [Fact]
    public async Task Submit_UnknownTypeAllowed_Enqueues()
    {
        var (code, stdout, _) = await Gantry("submit", "later-type", "--allow-unknown-type", "--db", _dir.Db);
        Assert.Equal(0, code);
        Assert.True(Guid.TryParse(stdout.Trim(), out _), stdout);
    }

    [Fact]
    public async Task Submit_BadFlagValue_UsageErrorNamesTheFlag()
    {
        var (code, _, err) = await Gantry("submit", "echo", "--priority", "high", "--db", _dir.Db);
        Assert.Equal(2, code);
        AssertOneCleanLine(err, "high");
        Assert.Contains("--priority", err, StringComparison.Ordinal);
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Submit_BadDuration_UsageErrorNamesTheFlag()
    {
        var (code, _, err) = await Gantry("submit", "echo", "--delay", "soon", "--db", _dir.Db);
        Assert.Equal(2, code);
        AssertOneCleanLine(err, "--delay: 'soon' is not a duration");
    }

    [Fact]
    public async Task Submit_UnknownFlag_UsageError()
    {
        var (code, _, err) = await Gantry("submit", "echo", "--colour", "red", "--db", _dir.Db);
        Assert.Equal(2, code);
        AssertOneCleanLine(err, "--colour");
    }

    [Fact]
    public async Task Submit_BatchWithOneBadDocument_NothingEnqueuedAndPositionNamed()
    {
        File.WriteAllText(_dir.File("jobs.jsonl"), """
            {"type":"echo","payload":{"n":1}}
            {"type":"echo","payload":{"n":2}}
            {"type":"echo","priorty":3}
            """);
        var (code, _, err) = await Gantry("submit", "--file", _dir.File("jobs.jsonl"), "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "jobs.jsonl line 3: unknown field 'priorty'");
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Submit_WrongFieldType_NamesDocumentAndField()
    {
        File.WriteAllText(_dir.File("jobs.json"), """[{"type":"echo"},{"type":"echo","max_attempts":"five"}]""");
        var (code, _, err) = await Gantry("submit", "--file", _dir.File("jobs.json"), "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "jobs.json[1].max_attempts: expected an integer, got a string");
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Submit_PayloadOverLimit_Rejected()
    {
        var big = "{\"blob\":\"" + new string('x', 1024 * 1024 + 10) + "\"}";
        File.WriteAllText(_dir.File("big.json"), "{\"type\":\"echo\",\"payload\":" + big + "}");
        var (code, _, err) = await Gantry("submit", "--file", _dir.File("big.json"), "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "big.json.payload: is 1,048,597 bytes, over the limit of 1,048,576 bytes");
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task Submit_PayloadOverConfiguredLimit_Rejected()
    {
        var payload = "{\"blob\":\"" + new string('x', 2000) + "\"}";
        var (code, _, err) = await Gantry("submit", "echo", payload, "--max-payload", "1KiB", "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "payload: is 2,011 bytes, over the limit of 1,024 bytes");
        await AssertNoJobsAsync();
        (code, _, _) = await Gantry("submit", "echo", payload, "--max-payload", "4KiB", "--db", _dir.Db);
        Assert.Equal(0, code);
    }

    [Fact]
    public async Task Submit_StdinMalformed_SaysWhere()
    {
        var (code, _, err) = await GantryProcess.RunAsync(_dir.Path, "{\"type\": \"echo\", ", "submit", "--file", "-", "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "stdin: malformed JSON");
        await AssertNoJobsAsync();
    }

    [Fact]
    public async Task AnyCommand_CorruptDatabase_ClearErrorAndFileUntouched()
    {
        var garbage = new byte[8192];
        new Random(7).NextBytes(garbage);
        File.WriteAllBytes(_dir.Db, garbage);
        foreach (var args in new[] { new[] { "submit", "echo" }, ["jobs", "list"], ["queues"] })
        {
            var (code, _, err) = await Gantry([.. args, "--db", _dir.Db]);
            Assert.Equal(1, code);
            AssertOneCleanLine(err, "is corrupt or not an SQLite database");
        }
        Assert.Equal(garbage, File.ReadAllBytes(_dir.Db));
    }

    [Fact]
    public async Task JobsList_MissingDatabase_SaysHowToCreateOne()
    {
        var (code, _, err) = await Gantry("jobs", "list", "--db", _dir.File("nothing.db"));
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "no Gantry store at");
        Assert.False(File.Exists(_dir.File("nothing.db")));
    }

    [Fact]
    public async Task JobsShow_UnknownId_NotFound()
    {
        await Gantry("submit", "echo", "--db", _dir.Db);
        var id = Guid.CreateVersion7();
        var (code, _, err) = await Gantry("jobs", "show", id.ToString(), "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, $"no job with id {id}");
    }

    [Fact]
    public async Task JobsShow_MalformedId_UsageError()
    {
        var (code, _, err) = await Gantry("jobs", "show", "not-an-id", "--db", _dir.Db);
        Assert.Equal(2, code);
        AssertOneCleanLine(err, "'not-an-id' is not a job id");
    }

    [Fact]
    public async Task JobsRetry_QueuedJob_IllegalTransition()
    {
        var (_, stdout, _) = await Gantry("submit", "echo", "--db", _dir.Db);
        var (code, _, err) = await Gantry("jobs", "retry", stdout.Trim(), "--db", _dir.Db);
        Assert.Equal(1, code);
        AssertOneCleanLine(err, "a job that is queued cannot be retried");
    }

    [Fact]
    public async Task Help_EveryCommand_DescribesItsFlags()
    {
        foreach (var (args, flag) in new[]
        {
            (new[] { "--help" }, "submit"), (["run", "--help"], "--drain-timeout"), (["submit", "--help"], "--idempotency-key"),
            (["jobs", "list", "--help"], "--state"), (["jobs", "show", "--help"], "--follow"), (["jobs", "cancel", "--help"], "<id>"),
            (["jobs", "retry", "--help"], "<id>"), (["queues", "--help"], "--json"), (["bench", "--help"], "--concurrency"),
        })
        {
            var (code, stdout, _) = await Gantry(args);
            Assert.Equal(0, code);
            Assert.Contains(flag, stdout, StringComparison.Ordinal);
        }
    }
}
