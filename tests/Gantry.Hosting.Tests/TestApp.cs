using Gantry.Handlers;
using Gantry.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Hosting.Tests;

public sealed record Greet(string Name);
public sealed record Greeting(string Text);

public sealed class GreetHandler : IJobHandler<Greet, Greeting>
{
    public ValueTask<Greeting> HandleAsync(Greet payload, JobContext context) => ValueTask.FromResult(new Greeting($"Hello, {payload.Name}!"));
}

public sealed class AlwaysFailsHandler : IJobHandler<Greet>
{
    public ValueTask HandleAsync(Greet payload, JobContext context) => throw new InvalidOperationException($"no greeting for {payload.Name}");
}

/// <summary>Runs until its token fires.</summary>
public sealed class WaitsHandler : IJobHandler<Greet>
{
    public async ValueTask HandleAsync(Greet payload, JobContext context) => await Task.Delay(Timeout.Infinite, context.CancellationToken);
}

/// <summary>Ignores its token: the worker has to abandon it.</summary>
public sealed class DeafHandler : IJobHandler<Greet>
{
    public async ValueTask HandleAsync(Greet payload, JobContext context) => await Task.Delay(TimeSpan.FromMinutes(5), CancellationToken.None);
}

/// <summary>Runs until the test opens its gate (keyed by the payload's name).</summary>
public sealed class GateHandler : IJobHandler<Greet>
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    public static TaskCompletionSource For(string name) => Gates.GetOrAdd(name, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public async ValueTask HandleAsync(Greet payload, JobContext context) => await For(payload.Name).Task.WaitAsync(context.CancellationToken);
}

/// <summary>How soon <see cref="IJobClient.WaitAsync(Guid, CancellationToken)"/> sees a job's end.</summary>
internal static class EndLatency
{
    /// <summary>
    /// Runs a <c>gate</c> job, starts waiting for it, and opens its gate 0.8 s later: inside the safety poll's longest pause
    /// (reads at 0, 0.25 and 0.75 s, the next at 1.75 s), so that only the end's own signal sees it within tens of ms.
    /// Returns the time from the opening to the wait's return. <paramref name="wait"/> waits instead of the client.
    /// </summary>
    public static async Task<TimeSpan> MeasureAsync(IJobClient jobs, CancellationToken ct, Func<Guid, CancellationToken, Task>? wait = null)
    {
        var name = Guid.NewGuid().ToString("N");
        var gate = GateHandler.For(name);
        var id = await jobs.EnqueueAsync("gate", new Greet(name), ct: ct);
        while ((await jobs.GetAsync(id, ct))!.State != Gantry.Jobs.JobState.Running) await Task.Delay(20, ct);
        var waiting = wait is null ? jobs.WaitAsync(id, ct) : wait(id, ct);
        await Task.Delay(800, ct);
        var opened = System.Diagnostics.Stopwatch.StartNew();
        gate.SetResult();
        await waiting;
        return opened.Elapsed;
    }
}

/// <summary>An application's host with Gantry configured from an in-memory "Gantry" section, as appsettings.json would give it.</summary>
internal static class TestApp
{
    public static HostApplicationBuilder Builder(IDictionary<string, string?> gantry, Action<GantryBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(gantry.Where(kv => kv.Value is not null).Select(kv => new KeyValuePair<string, string?>("Gantry:" + kv.Key, kv.Value)));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var gantryBuilder = builder.Services.AddGantry(builder.Configuration.GetSection("Gantry"))
            .AddHandler<GreetHandler>("greet")
            .AddHandler<AlwaysFailsHandler>("fails")
            .AddHandler<WaitsHandler>("waits")
            .AddHandler<DeafHandler>("deaf")
            .AddHandler<GateHandler>("gate");
        configure?.Invoke(gantryBuilder);
        return builder;
    }

    /// <summary>A built and started host, stopped and disposed with the returned handle.</summary>
    public static async Task<IHost> StartAsync(IDictionary<string, string?> gantry, Action<GantryBuilder>? configure = null)
    {
        var host = Builder(gantry, configure).Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            host.Dispose();
            throw;
        }
        return host;
    }

    /// <summary>A program built beside the tests (a project reference without its assembly): artifacts/bin/&lt;project&gt;/&lt;config&gt;/&lt;dll&gt;.</summary>
    public static string Built(string project, string dll)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Gantry.slnx"))) dir = dir.Parent;
        var config = AppContext.BaseDirectory.Contains("/release/", StringComparison.OrdinalIgnoreCase) ? "release" : "debug";
        var path = Path.Combine(dir!.FullName, "artifacts", "bin", project, config, dll);
        return File.Exists(path) ? path : throw new InvalidOperationException($"{project} is not built: {path}");
    }

    /// <summary>Fast settings for tests: short intervals, the worker polling quickly.</summary>
    public static Dictionary<string, string?> Sqlite(string path, bool worker = true) => new()
    {
        ["Store"] = $"sqlite:{path}",
        ["Worker:Queues:default"] = worker ? "4" : null,
        ["Worker:PollInterval"] = "50ms",
        ["Worker:DrainTimeout"] = "1s",
        ["Worker:CancelGracePeriod"] = "1s",
    };

    public static async Task StopAsync(this IHost host)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StopAsync(cts.Token);
        if (host is IAsyncDisposable d) await d.DisposeAsync(); else host.Dispose();
    }
}

internal sealed class TempDirectory : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gantry-hosting-tests", Guid.NewGuid().ToString("N"));

    public TempDirectory() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
