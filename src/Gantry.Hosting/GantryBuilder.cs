using Gantry.Worker.Execution;
using Gantry.Worker.Hosting;
using Gantry.Worker.Links;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gantry.Hosting;

/// <summary>
/// What <c>services.AddGantry(configuration)</c> returns: adds handlers and a worker to the application. Other parts of
/// Gantry extend it with extension methods on this type, registering through <see cref="Services"/>.
/// </summary>
public sealed class GantryBuilder
{
    /// <summary>Keys the worker's <see cref="IWorkerLink"/> in the container (a link of the builder's own, disposed with the
    /// container): resolved with it, it tells where the worker reaches the coordinator (its <c>Description</c>).</summary>
    public const string LinkKey = "Gantry.Hosting.WorkerLink";

    /// <summary>Keys the node's link in the container.</summary>
    internal const string NodeLinkKey = "Gantry.Hosting.NodeLink";

    private readonly GantryRegistration _registration;

    internal GantryBuilder(IServiceCollection services, GantryRegistration registration)
    {
        Services = services;
        _registration = registration;
    }

    /// <summary>The application's services, for extensions of the builder.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Registers <typeparamref name="THandler"/> (an <c>IJobHandler&lt;TPayload&gt;</c> or <c>IJobHandler&lt;TPayload, TResult&gt;</c>,
    /// one new instance per job, its dependencies injected) as the handler of <paramref name="jobType"/>. The worker of
    /// <see cref="AddWorker"/> runs it, and <c>IJobClient.EnqueueAsync&lt;THandler&gt;</c> takes the job type from here.
    /// </summary>
    /// <param name="checkpointInterval">How often a handler that implements <c>ICheckpointSource</c> is asked for its state.</param>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(Gantry.Worker.Handlers.HandlerRegistry.ReflectionWarning)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(Gantry.Worker.Handlers.HandlerRegistry.ReflectionWarning)]
    public GantryBuilder AddHandler<[System.Diagnostics.CodeAnalysis.DynamicallyAccessedMembers(
        System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.PublicConstructors | System.Diagnostics.CodeAnalysis.DynamicallyAccessedMemberTypes.Interfaces)] THandler>(
        string jobType, TimeSpan? checkpointInterval = null) where THandler : class
    {
        Protocol.JobDraft.CheckName(jobType, "jobType");
        Services.AddGantryHandler<THandler>(jobType, checkpointInterval);
        return this;
    }

    /// <summary>
    /// Runs a worker in the application, as a hosted service: it claims jobs of the registered handlers' types from the
    /// queues of <c>Gantry:Worker:Queues</c> (default <c>{ "default": 10 }</c>), on the store, or through the server's
    /// worker protocol with <c>Gantry:Server</c> and a worker token. On shutdown it drains within the host's
    /// <c>ShutdownTimeout</c> and requeues what is still running (the attempt not counted, checkpoints kept).
    /// </summary>
    public GantryBuilder AddWorker() => AddLinkedWorker(null);

    /// <summary>The worker of <see cref="AddWorker"/>, linked to the coordinator through <paramref name="link"/> when given (a
    /// node's socket; its owner disposes it), else through the store or the server of the options.</summary>
    public GantryBuilder AddLinkedWorker(IWorkerLink? link)
    {
        if (_registration.WorkerAdded) return this;
        _registration.WorkerAdded = true;
        _registration.LinkGiven = link is not null;
        Services.GetHandlerRegistry();
        if (link is not null) Services.AddKeyedSingleton(LinkKey, link);
        else Services.AddKeyedSingleton<IWorkerLink>(LinkKey, (sp, _) => CoordinatorLink(sp));
        Services.AddSingleton(sp => new GantryWorker(sp.GetRequiredKeyedService<IWorkerLink>(LinkKey),
            sp.GetRequiredService<IOptions<GantryOptions>>().Value.Worker, sp, time: sp.GetRequiredService<TimeProvider>()));
        var from = Services.Count;
        Services.AddHostedService(sp => new WorkerHostedService(
            sp.GetRequiredService<GantryWorker>(),
            sp.GetRequiredService<IHostApplicationLifetime>(),
            sp.GetService<IOptions<HostOptions>>()?.Value,
            stopApplicationOnDrain: sp.GetRequiredService<IOptions<GantryOptions>>().Value.StopApplicationOnDrain,
            sp.GetService<ILogger<WorkerHostedService>>()));
        DeferredHostedService.DeferFrom(Services, from, _ => true);
        return this;
    }

    /// <summary>The link a worker or node of the options has to the coordinator: the server's worker protocol with
    /// <c>Gantry:Server</c>, else the store.</summary>
    private static IWorkerLink CoordinatorLink(IServiceProvider sp)
    {
        var o = sp.GetRequiredService<IOptions<GantryOptions>>().Value;
        return o.ServerUri is { } server ? new HttpWorkerLink(server, o.WorkerToken ?? o.Token) : new StoreWorkerLink(sp.GetRequiredService<Storage.IJobStore>());
    }

    /// <summary>
    /// Runs a node in the application, as a hosted service (docs/node.md): it spawns <c>Gantry:Node:Workers</c> worker
    /// processes of <c>Gantry:Node:WorkerCommand</c> (by default the <c>gantry</c> command on <c>PATH</c>, which serves the
    /// built-in handlers and its gantry.json's process handlers), serves them over a Unix socket in <c>Gantry:Node:RunDir</c>
    /// and speaks for them to the store, or to the server with <c>Gantry:Server</c>. Its settings are <c>gantry node</c>'s,
    /// keyed as in gantry.json's <c>node</c> section and checked at start. On shutdown its workers drain within the host's
    /// <c>ShutdownTimeout</c>, then requeue what still runs (the attempt not counted, checkpoints kept). A drain command stops
    /// the node, not the application, unless <c>StopApplicationOnDrain</c> is set.
    /// </summary>
    public GantryBuilder AddNode()
    {
        if (_registration.NodeAdded) return this;
        _registration.NodeAdded = true;
        Services.AddKeyedSingleton<IWorkerLink>(NodeLinkKey, (sp, _) => CoordinatorLink(sp));
        Services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<GantryOptions>>().Value;
            var node = Node.NodeWorkerArguments.Prepend(o.Node);
            // The autoscaler counts the jobs waiting in the node's queues, when the store is at hand.
            Func<CancellationToken, Task<long>>? backlog = o.StoreLocation is null ? null : async ct =>
                (await sp.GetRequiredService<Storage.IJobStore>().QueueBacklogAsync(ct).ConfigureAwait(false)).Where(q => node.Queues.ContainsKey(q.Key)).Sum(q => q.Value);
            return new Node.GantryNode(sp.GetRequiredKeyedService<IWorkerLink>(NodeLinkKey), node,
                sp.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance, sp.GetRequiredService<TimeProvider>(), backlog);
        });
        var from = Services.Count;
        Services.AddHostedService(sp => new Node.Hosting.NodeHostedService(
            sp.GetRequiredService<Node.GantryNode>(),
            sp.GetRequiredService<IHostApplicationLifetime>(),
            sp.GetService<IOptions<HostOptions>>()?.Value,
            stopApplicationOnDrain: sp.GetRequiredService<IOptions<GantryOptions>>().Value.StopApplicationOnDrain,
            sp.GetService<ILogger<Node.Hosting.NodeHostedService>>()));
        DeferredHostedService.DeferFrom(Services, from, _ => true);
        return this;
    }

    /// <summary>
    /// Registers the built-in job types (<c>count</c>, <c>echo</c>, <c>fail</c>, <c>noop</c>, <c>sleep</c>: docs/handlers.md), for
    /// trying Gantry out and for smoke tests. The <c>gantry</c> command's workers serve them.
    /// </summary>
    public GantryBuilder AddBuiltInHandlers()
    {
        Worker.Handlers.BuiltIn.BuiltInHandlers.AddGantryBuiltInHandlers(Services);
        return this;
    }

    /// <summary>
    /// Registers a process handler (docs/process-handlers.md): jobs of <paramref name="jobType"/> run <paramref name="spec"/>'s
    /// program, isolated and limited as the <c>gantry</c> command's <c>handlers</c> in gantry.json are.
    /// </summary>
    public GantryBuilder AddProcessHandler(string jobType, Worker.Handlers.Process.ProcessHandlerSpec spec)
    {
        Protocol.JobDraft.CheckName(jobType, "jobType");
        ArgumentNullException.ThrowIfNull(spec);
        Services.AddGantryProcessHandler(jobType, spec);
        return this;
    }

    /// <summary>
    /// Watches a folder for job documents (docs/job-protocol.md, "Jobs directory"): each <c>*.json</c> is submitted and moved
    /// aside, and its jobs' results are written beside it. The job types of the handlers registered here are known to it
    /// even before the worker has registered. Needs a store; started once the store is open.
    /// </summary>
    public GantryBuilder AddJobsDirectory(Gantry.Server.Intake.JobsDirectoryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var registry = Services.GetHandlerRegistry();
        var from = Services.Count;
        Services.AddGantryJobsDirectory(options);
        // Read when the intake starts, once every handler is registered.
        Services.Replace(ServiceDescriptor.Singleton(_ => options with { KnownJobTypes = [.. options.KnownJobTypes.Union(registry.JobTypes, StringComparer.Ordinal)] }));
        DeferFrom(from);
        return this;
    }

    /// <summary>Declares schedules of <paramref name="origin"/> (the <c>gantry</c> command's gantry.json), reconciled once the store is open.</summary>
    public GantryBuilder AddSchedules(string origin, IEnumerable<Scheduling.ScheduleDefinition> schedules)
    {
        var from = Services.Count;
        Services.AddGantrySchedules(origin, schedules);
        DeferFrom(from);
        return this;
    }

    /// <summary>Declares a queue's per-state retention, set in the store once it is open.</summary>
    public GantryBuilder AddQueueRetention(Storage.QueueRetention retention)
    {
        var from = Services.Count;
        Services.AddGantryQueueRetention(retention);
        DeferFrom(from);
        return this;
    }

    /// <summary>Declares a queue's flow limits, set in the store once it is open (even before the queue's first job).</summary>
    public GantryBuilder AddQueueLimits(Flow.DeclaredQueueLimits limits)
    {
        var from = Services.Count;
        Services.AddGantryQueueLimits(limits);
        DeferFrom(from);
        return this;
    }

    private void DeferFrom(int from) => DeferredHostedService.DeferFrom(Services, from, sp =>
        sp.GetRequiredService<IOptions<GantryOptions>>().Value.StoreLocation is not null);

    /// <summary>
    /// Declares a recurring job (docs/schedules.md): <paramref name="cron"/> of five fields, six with seconds, or a macro
    /// (<c>@daily</c>), in <paramref name="timeZone"/> (an IANA id; default UTC). The schedule is created or updated in the
    /// store once it is open, and removed at a later start that no longer declares it; the leader fires it, one job per
    /// fire time. <paramref name="payload"/> is serialized as a job's payload is by <see cref="IJobClient"/>.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(Gantry.Serialization.GantryPayloadJson.ReflectionWarning)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(Gantry.Serialization.GantryPayloadJson.ReflectionWarning)]
    public GantryBuilder AddSchedule(string name, string cron, string type, object? payload = null, string? timeZone = null)
    {
        var from = Services.Count;
        Services.AddGantrySchedule(name, cron, type,
            payload is null ? null : System.Text.Json.JsonSerializer.Serialize(payload, payload.GetType(), Gantry.Serialization.GantryPayloadJson.Default), timeZone);
        // The reconciler writes to the store: it starts once the store is open, as the other Gantry services do.
        DeferredHostedService.DeferFrom(Services, from, _ => true);
        return this;
    }

    /// <summary>
    /// Accepts a key of the configuration section that an extension of the builder reads itself (say <c>Schedules</c>):
    /// without it, a key Gantry does not know stops the start, so that a typo is never ignored.
    /// </summary>
    public GantryBuilder AcceptSetting(string key)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        _registration.OtherSettings.Add(key);
        return this;
    }

    /// <summary>Changes options in code, after the configuration section is read (tests, values computed at start).</summary>
    public GantryBuilder Configure(Action<GantryOptions> configure)
    {
        Services.Configure(configure);
        return this;
    }
}

/// <summary>What the builder has added, for the checks at start.</summary>
internal sealed class GantryRegistration
{
    public bool WorkerAdded { get; set; }

    public bool NodeAdded { get; set; }

    /// <summary>The worker's link was given (a node's socket): neither a store nor a server is needed.</summary>
    public bool LinkGiven { get; set; }

    /// <summary>Keys of the section that extensions read (<see cref="GantryBuilder.AcceptSetting"/>).</summary>
    public HashSet<string> OtherSettings { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>Checks <see cref="GantryOptions"/> when the host starts (<c>ValidateOnStart</c>): every problem, each naming its key.</summary>
internal sealed class GantryOptionsValidator(GantryRegistration registration) : IValidateOptions<GantryOptions>
{
    public ValidateOptionsResult Validate(string? name, GantryOptions options)
    {
        var errors = options.Check(registration.WorkerAdded, registration.LinkGiven, registration.NodeAdded);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
