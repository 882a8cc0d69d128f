using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Gantry.Jobs;
using Gantry.Storage.Sqlite;
using Xunit.Abstractions;

namespace Gantry.Hosting.Tests;

/// <summary>samples/WebApp as a real process: SIGTERM during a long job.</summary>
public sealed class ShutdownTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string WebAppDll() => TestApp.Built("WebApp", "WebApp.dll");

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Sigterm_DuringALongJob_ExitsZeroWithinTheShutdownTimeoutAndTheJobIsRequeuedUncounted()
    {
        var shutdownTimeout = TimeSpan.FromSeconds(8);
        var db = _dir.File("webapp.db");
        var url = $"http://127.0.0.1:{FreePort()}";
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = _dir.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(WebAppDll());
        info.Environment["ASPNETCORE_URLS"] = url;
        info.Environment["Gantry__Store"] = $"sqlite:{db}";
        // A drain longer than the host allows: the worker must cut it to fit.
        info.Environment["Gantry__Worker__DrainTimeout"] = "1m";
        info.Environment["Gantry__Worker__CancelGracePeriod"] = "2s";
        info.Environment["HostOptions__ShutdownTimeout"] = "00:00:08";
        using var app = Process.Start(info)!;
        var log = new System.Text.StringBuilder();
        app.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        app.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };
            var started = Stopwatch.StartNew();
            while (true)
            {
                try { if ((await http.GetAsync("/healthz")).IsSuccessStatusCode) break; }
                catch (HttpRequestException) when (started.Elapsed < TimeSpan.FromSeconds(30)) { }
                Assert.False(app.HasExited, log.ToString());
                await Task.Delay(100);
            }
            var enqueued = await (await http.PostAsJsonAsync("/reports", new { steps = 10_000, stepMs = 50 })).Content.ReadFromJsonAsync<JsonElement>();
            var id = enqueued.GetProperty("job").GetGuid();
            // Running, with a checkpoint or two saved.
            JsonElement job;
            do
            {
                await Task.Delay(200);
                job = await http.GetFromJsonAsync<JsonElement>($"/jobs/{id}");
            } while (job.GetProperty("state").GetString() != "running" && started.Elapsed < TimeSpan.FromSeconds(30));
            await Task.Delay(500);

            var stopping = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", ["-TERM", app.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
            using var bound = new CancellationTokenSource(shutdownTimeout + TimeSpan.FromSeconds(10));
            await app.WaitForExitAsync(bound.Token);
            stopping.Stop();
            output.WriteLine($"exited {app.ExitCode} after {stopping.Elapsed.TotalSeconds:0.00} s (ShutdownTimeout {shutdownTimeout.TotalSeconds} s)");
            output.WriteLine(log.ToString());

            Assert.Equal(0, app.ExitCode);
            Assert.True(stopping.Elapsed < shutdownTimeout + TimeSpan.FromSeconds(1), $"took {stopping.Elapsed}");
            await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = db, CreateIfMissing = false }, CancellationToken.None);
            var record = await store.JobGetAsync(id, CancellationToken.None);
            Assert.Equal(JobState.Queued, record!.State);
            Assert.Equal(0, record.Attempt);
            Assert.True(record.CheckpointSize > 0, "the checkpoint is kept");
            Assert.Empty(record.Errors);
        }
        finally
        {
            if (!app.HasExited) app.Kill(entireProcessTree: true);
        }
    }
}
