using System.Net.Http.Json;
using System.Diagnostics;

namespace Gantry.Cli.Tests.Postgres;

/// <summary>`gantry run --store postgres://…` and clients in other processes, on a real PostgreSQL.</summary>
public sealed class PostgresRunTests(PostgresClusterFixture fixture) : IClassFixture<PostgresClusterFixture>, IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Run_SubmitWaitFromAnotherProcess_ResultWithoutWaitingForAPoll()
    {
        var url = await fixture.NewDatabaseAsync();
        // A poll interval far longer than the test may take: the job can only start this soon through NOTIFY.
        await using var run = GantryProcess.Start(_dir.Path, "run", "--store", url, "--poll-interval", "10m");
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        Assert.Contains("postgres://postgres@", run.Stdout, StringComparison.Ordinal);

        var watch = Stopwatch.StartNew();
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "{\"hello\":\"pg\"}", "--wait", "--store", url);

        Assert.True(code == 0, $"submit failed ({code}): {stderr}{stdout}");
        Assert.Contains("succeeded", stdout + stderr, StringComparison.Ordinal);
        Assert.Contains("pg", stdout, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"took {watch.Elapsed}");
        run.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await run.WaitForExitAsync(Generous));
    }

    [Theory]
    [InlineData("/api/v1/jobs", """{"type":"echo","idempotency_key":"k\u0000"}""", "body.idempotency_key")]
    [InlineData("/api/v1/jobs", """{"type":"echo","tags":{"t":"v\u0000"}}""", "body.tags.t")]
    [InlineData("/api/v1/workflows", """{"name":"n\u0000","steps":{"a":{"type":"echo"}}}""", "name")]
    [InlineData("/api/v1/worker/register", """{"id":"w\u0000","host":"h","process_id":1,"version":"1","queues":{"default":1},"capacity":1}""", "id")]
    [InlineData("/api/v1/worker/commands", """{"worker_id":"w\u0000"}""", "worker_id")]
    public async Task Server_NulInATextField_400NamingIt_AsOnSqlite(string path, string body, string field)
    {
        // PostgreSQL's text cannot hold a NUL: refused as bad input before the store, never a store error (503).
        var url = await fixture.NewDatabaseAsync();
        await using var server = GantryProcess.Start(_dir.Path, "server", "--store", url, "--listen", "127.0.0.1:0");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var api = System.Text.RegularExpressions.Regex.Match(server.Stdout, @"api\s+(http://\S+)").Groups[1].Value;
        using var http = new HttpClient { BaseAddress = new Uri(api) };

        var response = await http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Equal(field, System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("field").GetString());
        Assert.Equal(0, (await http.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/v1/jobs")).GetProperty("jobs").GetArrayLength());
    }

    [Fact]
    public async Task JobsDir_TextPostgresCannotStore_FileRejectedServerStaysUp()
    {
        var url = await fixture.NewDatabaseAsync();
        var jobs = Path.Combine(_dir.Path, "jobs");
        var processing = Path.Combine(jobs, ".processing");
        Directory.CreateDirectory(processing);
        // A NUL in a key: PostgreSQL refuses the text, SQLite takes it. Left in .processing by a crash, it used to stop the next start.
        await File.WriteAllTextAsync(Path.Combine(processing, "nul.json"), """{"type":"echo","idempotency_key":"a\u0000b"}""");
        await using var server = GantryProcess.Start(_dir.Path, "server", "--store", url, "--jobs-dir", jobs, "--listen", "off");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var temporary = Path.Combine(jobs, ".good.tmp");
        await File.WriteAllTextAsync(temporary, """{"type":"echo"}""");
        File.Move(temporary, Path.Combine(jobs, "good.json"));

        var deadline = DateTime.UtcNow + Generous;
        while (!(File.Exists(Path.Combine(jobs, "rejected", "nul.json.error.txt")) && File.Exists(Path.Combine(jobs, "accepted", "good.json"))))
        {
            Assert.True(DateTime.UtcNow < deadline, "the folder was not processed in time:\n" + server.Output);
            Assert.False(server.HasExited, server.Output);
            await Task.Delay(100);
        }
        Assert.Contains("nul.json", await File.ReadAllTextAsync(Path.Combine(jobs, "rejected", "nul.json.error.txt")), StringComparison.Ordinal);
        Assert.False(server.HasExited, server.Output);
        server.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await server.WaitForExitAsync(Generous));
    }

    [Fact]
    public async Task Migrate_FreshDatabase_PrintsVersionAndIsIdempotent()
    {
        var url = await fixture.NewDatabaseAsync();

        var first = await GantryProcess.RunAsync(_dir.Path, null, "migrate", "--store", url);
        var again = await GantryProcess.RunAsync(_dir.Path, null, "migrate", "--store", url);

        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Matches(@"schema version [1-9][0-9]*", first.Stdout);
        Assert.Equal(first.Stdout, again.Stdout);
    }

    [Fact]
    public async Task Queues_StoreFromEnvironment_UsesIt()
    {
        var url = await fixture.NewDatabaseAsync();
        var submit = await GantryProcess.RunAsync(_dir.Path, null, "submit", "echo", "{}", "--store", url);
        Assert.True(submit.ExitCode == 0, submit.Stderr);

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["queues", "--json"], env: ("GANTRY_STORE", url));

        Assert.True(code == 0, stderr);
        Assert.Contains("\"queued\":1", stdout.Replace(" ", ""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_UnreachableStore_OneLineWithHostAndPort()
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "list", "--store", "postgres://u:secret@127.0.0.1:1/db");

        Assert.Equal(1, code);
        Assert.Equal("gantry: cannot reach PostgreSQL at 127.0.0.1:1: connection refused", stderr.Trim());
    }

    [Theory]
    [InlineData("postgres://host-without-db")]
    [InlineData("redis://x")]
    [InlineData("sqlite:")]
    public async Task AnyCommand_BadStore_UsageErrorOneLine(string store)
    {
        var (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "queues", "--store", store);

        Assert.Equal(2, code);
        Assert.StartsWith("gantry: --store: ", stderr, StringComparison.Ordinal);
    }
}
