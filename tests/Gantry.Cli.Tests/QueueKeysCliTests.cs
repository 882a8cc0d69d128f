using System.Text.Json;
using Gantry.Jobs;

namespace Gantry.Cli.Tests;

/// <summary>`gantry queues keys`: a per-key queue's keys while a worker runs them, the same on the store and through a server.</summary>
public sealed class QueueKeysCliTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, args);
        Assert.True(code == 0, $"gantry {string.Join(' ', args)}: exit {code}\n{stderr}");
        return stdout;
    }

    private static string[] Rows(string table) =>
        [.. table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"\s{2,}", " "))];

    [Fact]
    public async Task QueuesKeys_NamesTheKeysItHoldsBack_OnTheStoreAndThroughAServer()
    {
        var sleeps = new List<Guid>();
        foreach (var key in new[] { "acme", "acme", "acme", "beta", null, null })
            sleeps.Add(await QuickRun.SubmitAsync(_dir, key is null ? ["sleep", """{"ms":60000}"""] : ["sleep", """{"ms":60000}""", "--concurrency-key", key]));
        await QuickRun.SubmitAsync(_dir, "noop", "--queue", "plain", "--concurrency-key", "acme");
        await OkAsync("queues", "limit", "default", "--per-key", "1", "--db", _dir.Db);
        await using var run = QuickRun.Start(_dir, "--listen", "127.0.0.1:0");
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        foreach (var id in new[] { sleeps[0], sleeps[3], sleeps[4] })
            await StoreProbe.WaitForAsync(_dir.Db, id, j => j.State == JobState.Running, Generous, "running");

        var table = await OkAsync("queues", "keys", "default", "--db", _dir.Db);
        Assert.Equal(["KEY QUEUED RUNNING AT LIMIT", "(no key) 1 1 yes", "acme 2 1 yes", "beta 0 1 -"], Rows(table));
        Assert.Equal(table, await OkAsync("queues", "keys", "default", "--server", run.ApiUrl));
        Assert.Contains("keys at their limit", await OkAsync("queues", "--db", _dir.Db), StringComparison.Ordinal);

        var held = await OkAsync("queues", "keys", "default", "--at-limit", "--limit", "1", "--server", run.ApiUrl);
        Assert.Contains("(no key)", held, StringComparison.Ordinal);
        Assert.Contains("more: gantry queues keys default --after ''", held, StringComparison.Ordinal);
        var next = JsonDocument.Parse(await OkAsync("queues", "keys", "default", "--at-limit", "--after", "", "--json", "--db", _dir.Db)).RootElement;
        Assert.Equal(["acme"], next.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("key").GetString()));
        Assert.Equal(1, next.GetProperty("per_key").GetInt32());

        // A queue without a per-key limit, an unknown one, a bad page size: one line each, on both links.
        foreach (var link in new[] { new[] { "--db", _dir.Db }, ["--server", run.ApiUrl] })
        {
            var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["queues", "keys", "plain", .. link]);
            Assert.Equal((1, ""), (code, stdout));
            Assert.Equal("gantry: queue 'plain' has no per-key limit nor rate per key: its keys are counted only under one", stderr.Trim());
            (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["queues", "keys", "nowhere", .. link]);
            Assert.Equal(1, code);
            Assert.Equal("gantry: unknown queue 'nowhere' (no job has been submitted to it)", stderr.Trim());
            (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["queues", "keys", "default", "--after", new string('k', 300), .. link]);
            Assert.Equal(1, code);
            Assert.Equal("gantry: --after: must be 1 to 255 characters", stderr.Trim());
        }
    }

    [Fact]
    public async Task JobsListAndCancel_ByConcurrencyKey_OnTheStoreAndThroughAServer()
    {
        var acme = await QuickRun.SubmitAsync(_dir, "noop", "--concurrency-key", "acme", "--allow-unknown-type");
        var beta = await QuickRun.SubmitAsync(_dir, "noop", "--concurrency-key", "beta", "--allow-unknown-type");
        var acme2 = await QuickRun.SubmitAsync(_dir, "noop", "--concurrency-key", "acme", "--allow-unknown-type", "--queue", "other");
        await using var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        foreach (var link in new[] { new[] { "--db", _dir.Db }, ["--server", server.ApiUrl] })
        {
            var listed = JsonDocument.Parse(await OkAsync(["jobs", "list", "--concurrency-key", "acme", "--json", .. link])).RootElement;
            Assert.Equal([acme2.ToString(), acme.ToString()], listed.EnumerateArray().Select(j => j.GetProperty("id").GetString()));
            var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["jobs", "list", "--concurrency-key", "", .. link]);
            Assert.Equal((2, ""), (code, stdout));
            Assert.StartsWith("gantry: --concurrency-key: must be 1 to 255 characters", stderr, StringComparison.Ordinal);
            // A queue or type no job can have is refused on both links alike (a store used to match nothing with it).
            foreach (var (filter, error) in new[]
            {
                (new[] { "list", "--queue", "" }, "gantry: --queue: '' is not a valid name"),
                (["retry", "--type", "a b", "--state", "dead"], "gantry: --type: 'a b' is not a valid name"),
                (["cancel", "-q", " default", "--dry-run"], "gantry: --queue: ' default' is not a valid name"),
            })
            {
                (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, ["jobs", .. filter, .. link]);
                Assert.Equal((2, ""), (code, stdout));
                Assert.StartsWith(error, stderr, StringComparison.Ordinal);
                Assert.Single(stderr.Trim().Split('\n'));
            }
        }
        Assert.Contains("cancel: 1 jobs in queue default with concurrency key acme (dry run)",
            await OkAsync("jobs", "cancel", "--queue", "default", "--concurrency-key", "acme", "--dry-run", "--server", server.ApiUrl), StringComparison.Ordinal);
        await OkAsync("jobs", "cancel", "--concurrency-key", "acme", "--server", server.ApiUrl);
        var states = JsonDocument.Parse(await OkAsync("jobs", "list", "--json", "--db", _dir.Db)).RootElement.EnumerateArray()
            .ToDictionary(j => j.GetProperty("id").GetString()!, j => j.GetProperty("state").GetString());
        Assert.Equal(("cancelled", "queued", "cancelled"), (states[acme.ToString()], states[beta.ToString()], states[acme2.ToString()]));
    }

    [Fact]
    public async Task KeysAndTagsHoldingControlCharacters_PrintedAsEscapes_NeverAsTerminalInput()
    {
        File.WriteAllText(_dir.File("job.json"), """
            {"type":"noop","queue":"t","concurrency_key":"a\u001b[2Jb","idempotency_key":"line1\nline2","tags":{"team":"x\ty"}}
            """);
        var id = (await OkAsync("submit", "--file", _dir.File("job.json"), "--allow-unknown-type", "--db", _dir.Db)).Trim();
        await OkAsync("queues", "limit", "t", "--per-key", "1", "--db", _dir.Db);

        var keys = await OkAsync("queues", "keys", "t", "--db", _dir.Db);
        var show = await OkAsync("jobs", "show", id, "--db", _dir.Db);
        foreach (var text in new[] { keys, show }) Assert.DoesNotContain(text, c => char.IsControl(c) && c != '\n');
        Assert.Contains("a\\x1b[2Jb", keys, StringComparison.Ordinal);
        Assert.Contains("concurrency key a\\x1b[2Jb", show, StringComparison.Ordinal);
        Assert.Contains("line1\\nline2", show, StringComparison.Ordinal);
        Assert.Contains("team=x\\ty", show, StringComparison.Ordinal);
        // JSON keeps the text exact.
        var json = JsonDocument.Parse(await OkAsync("jobs", "show", id, "--json", "--db", _dir.Db)).RootElement;
        Assert.Equal("a\u001b[2Jb", json.GetProperty("concurrency_key").GetString());
    }
}
