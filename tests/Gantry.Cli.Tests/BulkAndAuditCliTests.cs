using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>`gantry jobs list --tag/--search`, `jobs retry|cancel` by filter with --dry-run, and `gantry audit`, on a store and
/// through --server.</summary>
public sealed class BulkAndAuditCliTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<(int Code, string Stdout, string Stderr)> GantryAsync(params string[] args) => await GantryProcess.RunAsync(_dir.Path, null, args);

    private async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await GantryAsync(args);
        Assert.True(code == 0, $"gantry {string.Join(' ', args)} failed ({code}): {stderr}{stdout}");
        return stdout;
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement;

    private async Task EveryCommandAsync(string actor, params string[] where)
    {
        string[] With(params string[] args) => [.. args, .. where];
        for (var i = 0; i < 3; i++)
            await OkAsync("submit", "echo", "--queue", "emails", "--tags", "team=billing", "--db", _dir.Db);
        await OkAsync("submit", "echo", "--queue", "emails", "--tags", "team=search", "--idempotency-key", "order-42", "--db", _dir.Db);

        Assert.Equal(3, Json(await OkAsync(With("jobs", "list", "--tag", "team=billing", "--json"))).GetArrayLength());
        Assert.Single(Json(await OkAsync(With("jobs", "list", "--search", "order-42", "--json"))).EnumerateArray());

        Assert.Equal("cancel: 3 jobs in queue emails tagged team=billing (dry run)",
            (await OkAsync(With("jobs", "cancel", "--queue", "emails", "--tag", "team=billing", "--dry-run"))).Trim());
        var cancelled = await OkAsync(With("jobs", "cancel", "--queue", "emails", "--tag", "team=billing", "--batch", "2"));
        Assert.Equal(["cancel: 3 jobs in queue emails tagged team=billing", "cancel: 2 done, 1 left", "cancelled 3 jobs"],
            cancelled.Trim().Split('\n'));
        Assert.Equal(["retry: 3 cancelled jobs in queue emails", "retried 3 jobs"],
            (await OkAsync(With("jobs", "retry", "--state", "cancelled", "--queue", "emails"))).Trim().Split('\n'));

        var audit = Json(await OkAsync(With("audit", "--json")));
        var entries = audit.EnumerateArray().Select(e => (e.GetProperty("action").GetString(), e.GetProperty("actor").GetString(),
            e.GetProperty("target").GetString(), e.GetProperty("count").GetInt64())).ToArray();
        Assert.Equal([
            ("jobs.bulk_retry", actor, "queue=emails state=cancelled", 3L),
            ("jobs.bulk_cancel", actor, "queue=emails tag:team=billing", 1L),
            ("jobs.bulk_cancel", actor, "queue=emails tag:team=billing", 2L),
        ], entries);
        Assert.Contains("jobs.bulk_retry", await OkAsync(With("audit", "--limit", "1")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnTheStore_BulkActionsAuditedAsTheCli() =>
        await EveryCommandAsync($"cli:{Environment.UserName}", "--db", _dir.Db);

    [Fact]
    public async Task ThroughServer_BulkActionsAuditedByTheServer()
    {
        await OkAsync("migrate", "--db", _dir.Db);
        await using var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var api = System.Text.RegularExpressions.Regex.Match(server.Stdout, @"api\s+(http://\S+)").Groups[1].Value;
        await EveryCommandAsync("loopback", "--server", api);
    }

    [Fact]
    public async Task RetryByFilter_WhileAWorkerKillsThemAgain_EachJobRetriedOnce()
    {
        for (var i = 0; i < 3; i++)
            await OkAsync("submit", "fail", "{\"times\":99}", "--queue", "again", "--max-attempts", "1", "--db", _dir.Db);
        await using var worker = GantryProcess.Start(_dir.Path, "worker", "--db", _dir.Db, "--queues", "again:4", "--poll-interval", "20ms");
        await WaitDeadAsync(3);

        // Each retried job dies again at once; a call goes on after the last job the one before took, so the run ends.
        var retried = await OkAsync("jobs", "retry", "--state", "dead", "--queue", "again", "--batch", "1", "--db", _dir.Db);
        Assert.Equal(["retry: 3 dead jobs in queue again", "retry: 1 done, 2 left", "retry: 2 done, 1 left", "retried 3 jobs"],
            retried.Trim().Split('\n'));
        await WaitDeadAsync(3); // and nothing retried a second time behind the run's back

        async Task WaitDeadAsync(int count)
        {
            var deadline = DateTime.UtcNow + Generous;
            while (Json(await OkAsync("jobs", "list", "--state", "dead", "--queue", "again", "--json", "--db", _dir.Db)).GetArrayLength() != count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"not {count} dead jobs\n{worker.Output}");
                await Task.Delay(100);
            }
        }
    }

    [Fact]
    public async Task BadInput_OneLineNamingTheFlag()
    {
        await OkAsync("migrate", "--db", _dir.Db);
        async Task<string> FailAsync(params string[] args)
        {
            var (code, stdout, stderr) = await GantryAsync([.. args, "--db", _dir.Db]);
            Assert.True(code != 0, $"gantry {string.Join(' ', args)} succeeded: {stdout}");
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
            return stderr;
        }
        Assert.Contains("state", await FailAsync("jobs", "retry", "--state", "queued"), StringComparison.Ordinal);
        Assert.Contains("filter flags", await FailAsync("jobs", "cancel"), StringComparison.Ordinal);
        Assert.Contains("not both", await FailAsync("jobs", "cancel", Guid.NewGuid().ToString(), "--queue", "q"), StringComparison.Ordinal);
        Assert.Contains("--tag", await FailAsync("jobs", "list", "--tag", "team"), StringComparison.Ordinal);
    }
}
