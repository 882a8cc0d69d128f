using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.Worker;
using Gantry.Worker.Handlers.BuiltIn;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Cli.Hosting;

/// <summary>
/// A <c>gantry</c> process: what the command line adds to a host (console logging, signals, the Kestrel address,
/// telemetry export, the shutdown budget) around Gantry composed through the library's own builder
/// (<c>AddGantry</c> → <see cref="GantryBuilder"/>), as an application composes it: a worker (<c>gantry worker</c>), the
/// maintenance services under leader election and the API (<c>gantry server</c>), both (<c>gantry run</c>), or a node
/// (<c>gantry node</c>). Maintenance always runs under a <see cref="Gantry.Server.Leadership.LeaderHost"/>, so any number
/// of such processes share one store and one of them runs it. The store is opened by the host as it starts, before the services that use it.
/// </summary>
internal static class ProcessHost
{
    private static readonly IConfiguration NoConfiguration = new ConfigurationBuilder().Build();

    /// <summary>The log category of the library's store host, whose "store open" line the banner says already.</summary>
    private const string StoreHostCategory = "Gantry.Hosting.GantryStoreHost";

    /// <param name="store">The store; null for a worker that reaches the coordinator through <paramref name="server"/> or <paramref name="link"/>.</param>
    /// <param name="server">A Gantry server's URL and the worker's token: the worker goes through its HTTP API.</param>
    /// <param name="link">The worker's link when it is neither (a node's socket); the caller disposes it.</param>
    /// <param name="node">A node to run (<c>gantry node</c>), its options read from the command's settings.</param>
    public static IHost Build(StoreLocation? store, WorkerOptions? workerOptions, MaintenanceOptions? maintenance, GantryConfig config, LogLevel logLevel,
        ApiHosting? api = null, (Uri Url, string? Token)? server = null, Gantry.Worker.Links.IWorkerLink? link = null,
        Gantry.Server.Intake.JobsDirectoryOptions? jobsDir = null, ApiHosting? metrics = null, Gantry.Node.NodeOptions? node = null)
    {
        // gantry-worker runs a worker only: the services below that test the switch are left out of it.
        if (!CoordinatorAndNodeFeature.IsSupported && (maintenance is not null || jobsDir is not null || node is not null))
            throw new InvalidOperationException("this executable hosts a worker only");
        // One process, its own worker and dead-worker detector: a heartbeat too seldom for the timeout is refused at start.
        if (workerOptions is not null && maintenance is not null)
            HeartbeatRule.Check(workerOptions.EffectiveHeartbeatInterval, maintenance.DeadWorkerTimeout, "--heartbeat-interval");
        // With the API (or a worker's metrics) the host is a web application (Kestrel); without, a plain generic host that
        // loads and starts nothing of ASP.NET Core (WebProcessHost holds every reference to it).
        var listen = api ?? metrics;
        // Without web hosting in this executable (gantry-worker) the trimmer drops the web branches: each tests the switch first.
        if (listen is not null) WebHostFeature.Require(api is null ? "--metrics-listen" : "--listen", "serving HTTP");
        IHostApplicationBuilder builder = WebHostFeature.IsSupported && listen is not null ? WebProcessHost.CreateBuilder(api, metrics, maintenance, config)
            : Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(logLevel);
        // ASP.NET Core logs about six lines per request at Information: an idle HTTP worker's long polls would fill the
        // log. Requests are Debug; its warnings and errors still show. The banner says which store is open, and a store
        // that cannot be opened is one line from the command (the host would log it again, with its stack).
        if (logLevel > LogLevel.Debug)
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter(StoreHostCategory, LogLevel.Warning)
                .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical)
                // A refused anti-forgery token is answered (403 naming the header); it is not the operator's warning.
                .AddFilter("Microsoft.AspNetCore.Antiforgery", LogLevel.Error);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
            o.UseUtcTimestamp = false;
        });

        // Gantry itself, as an application adds it: the command line has read and checked every value already.
        var gantry = builder.Services.AddGantry(NoConfiguration).Configure(o =>
        {
            o.SectionPath = "";
            o.Store = store?.Text;
            o.ShareFile = false;
            o.Server = server?.Url.AbsoluteUri;
            o.Token = server?.Token;
            o.MaintenanceEnabled = maintenance is not null;
            if (maintenance is not null) o.Maintenance = maintenance;
            if (workerOptions is not null) o.Worker = workerOptions;
            if (node is not null) o.Node = node;
            // A drained gantry worker (or node) has nothing left to do: the process exits.
            o.StopApplicationOnDrain = true;
        });
        // Alert webhooks join the maintenance services the leader runs.
        if (CoordinatorAndNodeFeature.IsSupported && maintenance is not null) builder.Services.AddGantryAlerts(config.Alerts);
        // A coordinator holds the file's schedules, retention and limits: reconciled as it starts (every coordinator, idempotently).
        if (CoordinatorAndNodeFeature.IsSupported && maintenance is not null && config.Source is not null)
        {
            gantry.AddSchedules(Gantry.Storage.ScheduleOrigins.File, config.Schedules);
            foreach (var retention in config.Retention) gantry.AddQueueRetention(retention);
            foreach (var limits in config.Limits) gantry.AddQueueLimits(limits);
        }
        if (CoordinatorAndNodeFeature.IsSupported && jobsDir is not null) gantry.AddJobsDirectory(jobsDir with { KnownJobTypes = config.KnownJobTypes, Limits = jobsDir.Limits with { TypeLimits = config.TypeLimits } });
        if (workerOptions is not null)
        {
            gantry.AddBuiltInHandlers();
            foreach (var (type, spec) in config.Handlers) gantry.AddProcessHandler(type, spec);
            gantry.AddLinkedWorker(link);
        }
        if (CoordinatorAndNodeFeature.IsSupported && node is not null) gantry.AddNode();
        builder.Services.Configure<HostOptions>(o =>
        {
            // Room to drain, then to give abandoned handlers their grace period and write the last reports.
            o.ShutdownTimeout = (workerOptions is not null ? workerOptions.DrainTimeout + workerOptions.CancelGracePeriod
                : node is not null ? node.DrainTimeout + node.CancelGracePeriod : TimeSpan.Zero) + TimeSpan.FromSeconds(15);
        });
        builder.Services.AddSingleton<IHostLifetime, SignalLifetime>();
        var telemetry = TelemetrySettings.Resolve(config);
        var serviceName = node is not null ? "gantry-node" : maintenance is null ? "gantry-worker" : workerOptions is null ? "gantry-server" : "gantry";
        telemetry?.AddTo(builder.Services, serviceName);
        var host = WebHostFeature.IsSupported && listen is not null ? WebProcessHost.Build(builder, api, workerOptions, node) : ((HostApplicationBuilder)builder).Build();
        telemetry?.StartIn(host.Services);
        StartupGarbage.ReleaseWhenStarted(host);
        return host;
    }

    /// <summary>What the host's worker reaches the coordinator through, for the banner: the store or the server.</summary>
    public static string LinkOf(IHost host) =>
        host.Services.GetRequiredKeyedService<Gantry.Worker.Links.IWorkerLink>(GantryBuilder.LinkKey).Description;
}

/// <summary>
/// Stops the host on SIGINT, SIGTERM or SIGQUIT, without the console lifetime's chatter: the first signal drains (running
/// jobs may finish within the drain timeout), a second one stops at once (they are requeued now, their checkpoints kept).
/// </summary>
internal sealed class SignalLifetime(IHostApplicationLifetime lifetime, IServiceProvider services) : IHostLifetime, IDisposable
{
    private readonly List<System.Runtime.InteropServices.PosixSignalRegistration> _registrations = [];
    private int _signals;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM, System.Runtime.InteropServices.PosixSignal.SIGQUIT })
        {
            _registrations.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // We exit on our own, after draining.
                var (node, worker) = GantryHostServices.Runners(services);
                if (Interlocked.Increment(ref _signals) == 1)
                {
                    if (node is not null)
                        Console.Error.WriteLine("gantry: stopping; the workers' running jobs may finish within the drain timeout. Press Ctrl-C again to stop now: they are requeued at once, their checkpoints kept.");
                    else if (worker is not null)
                        Console.Error.WriteLine($"gantry: stopping; running jobs may finish within the drain timeout. Press Ctrl-C again to stop now: they are requeued at once, their checkpoints kept.");
                    lifetime.StopApplication();
                }
                else if (node is not null || worker is not null)
                {
                    Console.Error.WriteLine("gantry: stopping now: running jobs are requeued");
                    node?.StopNow();
                    worker?.StopNow();
                    lifetime.StopApplication();
                }
            }));
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}

internal static class HostOutcome
{
    /// <summary>
    /// The exit code of a host that has stopped: <see cref="Cli.Ok"/> after a signal, else a failure with a line saying
    /// which service failed and why. Every Gantry service restarts itself on failure, so this is the last guard: a host
    /// stopped by a failing service never looks like a clean exit.
    /// </summary>
    public static int ExitCode(IHost host)
    {
        if (GantryHostServices.Failed(host.Services) is not { } failure) return Cli.Ok;
        var (failed, ex) = failure;
        Console.Error.WriteLine($"gantry: stopped because {failed.GetType().Name} failed: {ex.Message}");
        return Cli.Error;
    }
}

internal static class ApiAddress
{
    /// <summary>Where the host's API actually listens (the port is chosen by the system for :0), or null without an API.</summary>
    public static string? Of(IHost host) =>
        host.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
}
