using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>gantry.json's <c>limits</c>: set in the store when a server starts (on a queue with no job yet too), and
/// refused in one line naming the key when bad.</summary>
public sealed class FlowLimitsConfigTests : IDisposable
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

    [Fact]
    public async Task GantryJson_Limits_SetWhenAServerStarts_OnAQueueWithoutJobsToo()
    {
        File.WriteAllText(_dir.File("gantry.json"), """
            { "limits": { "mail": { "concurrency": 20, "per_key": 2, "rate": "600/m" } } }
            """);
        await using (var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "off"))
        {
            await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            server.Signal(GantryProcess.SigTerm);
            Assert.Equal(0, await server.WaitForExitAsync(Generous));
        }

        // The queue is known by its limits: they can be changed without a job ever submitted to it.
        Assert.Contains("queue mail: concurrency 5, per key 2, rate 600/m", await OkAsync("queues", "limit", "mail", "--concurrency", "5", "--db", _dir.Db), StringComparison.Ordinal);
        await OkAsync("submit", "noop", "{}", "--queue", "mail", "--db", _dir.Db);
        var queues = JsonDocument.Parse(await OkAsync("queues", "--json", "--db", _dir.Db)).RootElement;
        var mail = queues.EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "mail").GetProperty("limits");
        Assert.Equal((5, 2, "600/m"), (mail.GetProperty("concurrency").GetInt32(), mail.GetProperty("per_key").GetInt32(), mail.GetProperty("rate").GetString()));
    }

    [Theory]
    [InlineData("""{ "limits": { "mail": { "concurrency": 0 } } }""", "gantry.json: limits.mail.concurrency: must be between 1 and 1,000,000, got 0")]
    [InlineData("""{ "limits": { "mail": { "rate": "5/d" } } }""", "gantry.json: limits.mail.rate: '5/d' is not a rate (write a count per second, minute or hour: 100/s, 600/m, 1000/h)")]
    [InlineData("""{ "limits": { "mail": { "burst": 3 } } }""", "gantry.json: limits.mail: unknown field 'burst' (known fields: concurrency, per_key, rate)")]
    [InlineData("""{ "limits": { "mail": {} } }""", "gantry.json: limits.mail: name at least one limit (concurrency, per_key, rate), or clear them")]
    public async Task GantryJson_BadLimits_OneLineNamingTheKey(string config, string error)
    {
        File.WriteAllText(_dir.File("gantry.json"), config);
        var (code, _, stderr) = await GantryAsync("server", "--db", _dir.Db, "--listen", "off");
        Assert.Equal(1, code);
        Assert.Equal($"gantry: {error}", stderr.Trim());
    }
}
