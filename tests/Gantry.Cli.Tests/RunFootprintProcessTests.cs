using System.Net;
using System.Text;
using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>What a `gantry run` does not start before a request needs it, and that the requests still get it.</summary>
[RunsLong(6)]
public sealed partial class RunFootprintProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Sessions and anti-forgery tokens are protected with keys held in memory only: starting, signing in and being given an
    /// anti-forgery token write no data-protection key under the home directory (ASP.NET Core's default key ring, which
    /// would otherwise be made and saved as the host starts, is never loaded).
    /// </summary>
    [Fact]
    public async Task Run_DashboardSignIn_WorksWithKeysInMemory_NoKeyWrittenUnderHome()
    {
        var home = Directory.CreateDirectory(_dir.File("home")).FullName;
        await using var run = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db, "--listen", "127.0.0.1:0"],
            [("GANTRY_TOKENS", "admin:test-admin-token"), ("HOME", home)]);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = new Uri(run.ApiUrl) };

        var signIn = await http.PostAsync("/dashboard/session", new StringContent("""{"token":"test-admin-token"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        // The session cookie alone (protected in memory) signs the next request in, and it gets an anti-forgery token.
        var session = JsonDocument.Parse(await http.GetStringAsync("/dashboard/session")).RootElement;
        Assert.True(session.GetProperty("signed_in").GetBoolean());
        Assert.False(string.IsNullOrEmpty(session.GetProperty("antiforgery").GetString()));

        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories),
            e => e.Contains("DataProtection", StringComparison.Ordinal) || e.Contains(".aspnet", StringComparison.Ordinal));
        run.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await run.WaitForExitAsync(Generous));
    }

    /// <summary>The web host reads its optional appsettings.json once: no file watcher (a thread of its own) runs.</summary>
    [Fact]
    public async Task Run_WatchesNoFile()
    {
        await File.WriteAllTextAsync(_dir.File("appsettings.json"), "{}");
        await using var run = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db, "--listen", "127.0.0.1:0"], []);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        var threads = Directory.GetDirectories($"/proc/{run.Pid}/task").Select(t => File.ReadAllText(Path.Combine(t, "comm")).Trim()).ToList();
        Assert.Contains("Kestrel Timer", threads);
        Assert.DoesNotContain(".NET File Watch", threads);
        run.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await run.WaitForExitAsync(Generous));
    }
}
