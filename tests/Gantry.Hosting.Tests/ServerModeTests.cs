using Gantry.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Hosting.Tests;

/// <summary>The same client over a Gantry server's HTTP API, for an application without database credentials.</summary>
public sealed class ServerModeTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));

    private CancellationToken Ct => _timeout.Token;

    public void Dispose()
    {
        _timeout.Dispose();
        _dir.Dispose();
    }

    /// <summary>A server composed with the same builder: a store, a worker, the API.</summary>
    private async Task<(WebApplication App, string Url)> StartServerAsync(bool worker = true)
    {
        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        web.WebHost.UseUrls("http://127.0.0.1:0");
        web.Logging.SetMinimumLevel(LogLevel.Warning);
        web.Configuration.AddInMemoryCollection(TestApp.Sqlite(_dir.File("server.db")).Select(kv => new KeyValuePair<string, string?>("Gantry:" + kv.Key, kv.Value)));
        var gantry = web.Services.AddGantry(web.Configuration.GetSection("Gantry")).AddHandler<GreetHandler>("greet").AddHandler<AlwaysFailsHandler>("fails")
            .AddHandler<GateHandler>("gate");
        if (worker) gantry.AddWorker();
        web.Services.AddGantryApi();
        var app = web.Build();
        app.MapGantryApi();
        await app.StartAsync(Ct);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, url);
    }

    [Fact]
    public async Task WaitAsync_OverHttp_SeesTheEndWithinTensOfMillisecondsThroughTheServersLongPoll()
    {
        var (server, url) = await StartServerAsync();
        var client = await TestApp.StartAsync(new Dictionary<string, string?> { ["Server"] = url });
        try
        {
            var seen = await EndLatency.MeasureAsync(client.Services.GetRequiredService<IJobClient>(), Ct);
            output.WriteLine($"end seen {seen.TotalMilliseconds:0.0} ms after it happened");
            Assert.True(seen < TimeSpan.FromMilliseconds(500), $"the end was seen {seen.TotalMilliseconds:0} ms after it happened");

            using var http = new HttpClient { BaseAddress = new Uri(url) };
            var bad = await http.GetAsync($"/api/v1/jobs/{Guid.NewGuid()}?wait=2m", Ct);
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("wait", await bad.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
        finally
        {
            await client.StopAsync();
            await server.StopAsync(Ct);
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Application_HostsWhatTheCommandHosts_BuiltInAndProcessHandlersJobsDirectoryApiAndWorker()
    {
        var inbox = _dir.File("inbox");
        Directory.CreateDirectory(inbox);
        await File.WriteAllTextAsync(Path.Combine(inbox, "early.json"), """{"type":"echo","payload":{"n":1}}""", Ct);
        var web = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        web.WebHost.UseUrls("http://127.0.0.1:0");
        web.Logging.SetMinimumLevel(LogLevel.Warning);
        web.Configuration.AddInMemoryCollection(TestApp.Sqlite(_dir.File("app.db")).Select(kv => new KeyValuePair<string, string?>("Gantry:" + kv.Key, kv.Value)));
        web.Services.AddGantry(web.Configuration.GetSection("Gantry"))
            .AddBuiltInHandlers()
            .AddProcessHandler("answer", new Gantry.Worker.Handlers.Process.ProcessHandlerSpec { Command = ["sh", "-c", "cat > /dev/null; echo '{\"result\": 42}'"] })
            .AddJobsDirectory(new Gantry.Server.Intake.JobsDirectoryOptions { Path = inbox })
            .AddWorker();
        web.Services.AddGantryApi();
        var app = web.Build();
        app.MapGantryApi();
        await app.StartAsync(Ct);
        try
        {
            var jobs = app.Services.GetRequiredService<IJobClient>();
            var echo = await jobs.EnqueueAsync("echo", new { hello = "world" }, ct: Ct);
            Assert.Equal("""{"hello":"world"}""", (await jobs.WaitAsync(echo, Ct)).Result);
            var answer = await jobs.EnqueueAsync("answer", new { }, ct: Ct);
            Assert.Equal("42", (await jobs.WaitAsync(answer, Ct)).Result);

            var results = Path.Combine(inbox, "results");
            while (!(Directory.Exists(results) && Directory.GetFiles(results, "*.json").Length == 1)) await Task.Delay(50, Ct);

            var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient();
            var workers = await http.GetStringAsync($"{url}/api/v1/workers", Ct);
            Assert.Contains("\"echo\"", workers, StringComparison.Ordinal);
            Assert.Contains("\"answer\"", workers, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync(Ct);
            await app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Client_OverHttp_EnqueuesWaitsCancelsAndRefusesATransaction()
    {
        var (server, url) = await StartServerAsync();
        var client = await TestApp.StartAsync(new Dictionary<string, string?> { ["Server"] = url });
        try
        {
            var jobs = client.Services.GetRequiredService<IJobClient>();

            var id = await jobs.EnqueueAsync<GreetHandler>(new Greet("Ada"), ct: Ct);
            Assert.Equal("Hello, Ada!", (await jobs.WaitAsync<Greeting>(id, Ct))!.Text);
            var failing = await jobs.EnqueueAsync("fails", new Greet("Bob"), new JobOptions { MaxAttempts = 1 }, ct: Ct);
            Assert.Equal(JobState.Dead, (await Assert.ThrowsAsync<JobDeadException>(() => jobs.WaitAsync(failing, Ct))).Job.State);
            var later = await jobs.EnqueueAsync("greet", new Greet("Cy"), new JobOptions { Delay = TimeSpan.FromHours(1) }, ct: Ct);
            await jobs.CancelAsync(later, Ct);
            await Assert.ThrowsAsync<JobCancelledException>(() => jobs.WaitAsync(later, Ct));
            var workflow = await jobs.EnqueueWorkflowAsync(new WorkflowRequest("pair",
                [new WorkflowStepRequest("a", "greet", new Greet("a")), new WorkflowStepRequest("b", "greet", new Greet("b"), ["a"])]), Ct);
            Assert.Equal("Hello, b!", (await jobs.WaitAsync<Greeting>(workflow.Steps["b"], Ct))!.Text);
            var unknown = await Assert.ThrowsAsync<InvalidInputException>(() => jobs.EnqueueAsync("nobody", null, ct: Ct));
            Assert.Contains("nobody", unknown.Message, StringComparison.Ordinal);

            await using var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_dir.File("server.db")}");
            await c.OpenAsync(Ct);
            await using var tx = await c.BeginTransactionAsync(Ct);
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => jobs.EnqueueAsync("greet", null, transaction: tx, ct: Ct));
            Assert.Contains("Gantry:Store", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await client.StopAsync();
            await server.StopAsync(Ct);
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Client_OverHttp_FlowOptions_UniquenessWindowsAndConcurrencyKeyReachTheJob()
    {
        var (server, url) = await StartServerAsync(worker: false);
        var client = await TestApp.StartAsync(new Dictionary<string, string?> { ["Server"] = url });
        try
        {
            await FlowOptionsChecks.RunAsync(client.Services.GetRequiredService<IJobClient>(), _dir.File("server.db"), Ct);
        }
        finally
        {
            await client.StopAsync();
            await server.StopAsync(Ct);
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Worker_OverHttp_RunsTheApplicationsHandlersAndReportsHealthy()
    {
        var (server, url) = await StartServerAsync(worker: false);
        var app = await TestApp.StartAsync(new Dictionary<string, string?> { ["Server"] = url, ["Worker:Queues:default"] = "2" }, b =>
        {
            b.AddWorker();
            b.Services.AddGantryHealthChecks();
        });
        try
        {
            var jobs = app.Services.GetRequiredService<IJobClient>();

            var id = await jobs.EnqueueAsync<GreetHandler>(new Greet("Ada"), new JobOptions { AllowUnknownType = true }, ct: Ct);

            Assert.Equal("Hello, Ada!", (await jobs.WaitAsync<Greeting>(id, Ct))!.Text);
            var health = await app.Services.GetRequiredService<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckService>().CheckHealthAsync(Ct);
            Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy, health.Status);
            Assert.Contains(url.TrimEnd('/'), health.Entries["gantry-store"].Description, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopAsync();
            await server.StopAsync(Ct);
            await server.DisposeAsync();
        }
    }
}
