using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>
/// A payload as deep as a job's JSON may be (63 levels under the job document) is shown by every command on every link.
/// Wrapped in a list's or a view's own fields it nested past JSON's default 64 levels: `jobs list --json` on a store was
/// an internal error, and through a server the CLI could not read the answer.
/// </summary>
public sealed class DeepJsonCliTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DeepPayload_ListedAndShown_OnTheStoreAndThroughAServer()
    {
        var payload = string.Concat(Enumerable.Repeat("""{"a":""", 63)) + "1" + new string('}', 63);
        var id = await QuickRun.SubmitAsync(_dir, "echo", payload);
        await using var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", "127.0.0.1:0");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", TimeSpan.FromSeconds(60));

        foreach (var link in new[] { new[] { "--db", _dir.Db }, ["--server", server.ApiUrl] })
        {
            foreach (var command in new[] { new[] { "jobs", "list", "--json" }, ["jobs", "show", id.ToString(), "--json"], ["jobs", "list"], ["jobs", "show", id.ToString()] })
            {
                var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, [.. command, .. link]);
                Assert.True(code == 0, $"gantry {string.Join(' ', command)} {link[0]}: exit {code}\n{stderr}");
                Assert.Contains(id.ToString(), stdout, StringComparison.Ordinal);
                if (command[^1] == "--json")
                {
                    var view = JsonDocument.Parse(stdout, new JsonDocumentOptions { MaxDepth = 80 }).RootElement;
                    var job = view.ValueKind == JsonValueKind.Array ? view[0] : view;
                    Assert.Equal(payload, job.GetProperty("payload").GetRawText().Replace(" ", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal));
                }
            }
        }
    }
}
