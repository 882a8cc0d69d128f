using System.Collections.Concurrent;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Worker.Handlers;
using Gantry.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Tests.Handlers;

/// <summary>Which handlers run in a DI scope per job: read off the registrations, and what a worker's handlers then see.</summary>
public sealed class HandlerScopesTests : WorkerTestBase
{
    private const string ScopedType = "test.scoped";
    private const string DisposableType = "test.disposable";
    private const string SingletonOnlyType = "test.singleton-only";

    private static readonly ConcurrentQueue<(Guid Job, int Unit)> Seen = new();
    private static readonly ConcurrentBag<int> DisposedUnits = [];
    private static readonly ConcurrentBag<Guid> DisposedHandlers = [];
    private static int _units;

    protected override void ConfigureServices(IServiceCollection services) => services
        .AddLogging()
        .AddScoped<UnitOfWork>()
        .AddGantryHandler<ScopedDependencyHandler>(ScopedType)
        .AddGantryHandler<DisposableHandler>(DisposableType)
        .AddGantryHandler<SingletonOnlyHandler>(SingletonOnlyType);

    private static bool Needed<THandler>(Action<IServiceCollection> configure) where THandler : class, IJobHandler<JsonElement>
    {
        var services = new ServiceCollection();
        configure(services);
        services.AddGantryHandler<THandler>("t");
        var registry = (HandlerRegistry)services.Single(d => d.ServiceType == typeof(HandlerRegistry)).ImplementationInstance!;
        Assert.True(registry.TryGet("t", out var handler));
        return registry.NeedsScope(handler);
    }

    [Fact]
    public void Needed_TransientWithSingletonsOnly_NoScope()
    {
        Assert.False(Needed<SingletonOnlyHandler>(s => s.AddSingleton(new Probe()).AddLogging()));
    }

    [Fact]
    public void Needed_ScopedDependency_Scope()
    {
        Assert.True(Needed<ScopedDependencyHandler>(s => s.AddScoped<UnitOfWork>()));
    }

    [Fact]
    public void Needed_TransientDependency_Scope()
    {
        Assert.True(Needed<ScopedDependencyHandler>(s => s.AddTransient<UnitOfWork>()));
    }

    [Fact]
    public void Needed_DependencyRegisteredNowhere_Scope()
    {
        Assert.True(Needed<ScopedDependencyHandler>(_ => { }));
    }

    [Fact]
    public void Needed_DisposableHandler_Scope()
    {
        Assert.True(Needed<DisposableHandler>(_ => { }));
    }

    [Fact]
    public void Needed_HandlerRegisteredScoped_Scope()
    {
        Assert.True(Needed<SingletonOnlyHandler>(s => s.AddSingleton(new Probe()).AddLogging().AddScoped<SingletonOnlyHandler>()));
    }

    [Fact]
    public void Needed_HandlerRegisteredSingleton_NoScope()
    {
        Assert.False(Needed<ScopedDependencyHandler>(s => s.AddScoped<UnitOfWork>().AddSingleton<ScopedDependencyHandler>()));
    }

    [Fact]
    public void Needed_ServiceProviderDependency_Scope()
    {
        Assert.True(Needed<ProviderHandler>(_ => { }));
    }

    [Fact]
    public async Task Run_ScopedDependency_FreshUnitPerJobDisposedAfter()
    {
        await StartWorkerAsync();
        var first = await EnqueueAsync(ScopedType);
        var second = await EnqueueAsync(ScopedType);

        await WaitForStateAsync(first, JobState.Succeeded);
        await WaitForStateAsync(second, JobState.Succeeded);

        var units = Seen.Where(s => s.Job == first || s.Job == second).Select(s => s.Unit).ToArray();
        Assert.Equal(2, units.Distinct().Count());
        Assert.All(units, unit => Assert.Contains(unit, DisposedUnits));
    }

    [Fact]
    public async Task Run_DisposableHandler_DisposedAfterEachJob()
    {
        await StartWorkerAsync();
        var id = await EnqueueAsync(DisposableType);

        await WaitForStateAsync(id, JobState.Succeeded);

        var deadline = DateTimeOffset.UtcNow + Probe.Deadline;
        while (!DisposedHandlers.Contains(id) && DateTimeOffset.UtcNow < deadline) await Task.Delay(10, Ct);
        Assert.Contains(id, DisposedHandlers);
    }

    [Fact]
    public async Task Run_SingletonOnlyHandler_Succeeds()
    {
        await StartWorkerAsync();
        var id = await EnqueueAsync(SingletonOnlyType);

        await WaitForStateAsync(id, JobState.Succeeded);
    }

    /// <summary>A scoped service: one per job, disposed with its scope.</summary>
    internal sealed class UnitOfWork : IDisposable
    {
        public int Number { get; } = Interlocked.Increment(ref _units);

        public void Dispose() => DisposedUnits.Add(Number);
    }

    internal sealed class ScopedDependencyHandler(UnitOfWork unit) : IJobHandler<JsonElement>
    {
        public ValueTask HandleAsync(JsonElement payload, JobContext context)
        {
            Seen.Enqueue((context.JobId, unit.Number));
            return ValueTask.CompletedTask;
        }
    }

    internal sealed class DisposableHandler : IJobHandler<JsonElement>, IDisposable
    {
        private Guid _job;

        public ValueTask HandleAsync(JsonElement payload, JobContext context)
        {
            _job = context.JobId;
            return ValueTask.CompletedTask;
        }

        public void Dispose() => DisposedHandlers.Add(_job);
    }

    internal sealed class SingletonOnlyHandler(Probe probe, ILogger<SingletonOnlyHandler> logger) : IJobHandler<JsonElement>
    {
        public ValueTask HandleAsync(JsonElement payload, JobContext context)
        {
            logger.LogDebug("ran {Job}", context.JobId);
            GC.KeepAlive(probe);
            return ValueTask.CompletedTask;
        }
    }

    internal sealed class ProviderHandler(IServiceProvider services) : IJobHandler<JsonElement>
    {
        public ValueTask HandleAsync(JsonElement payload, JobContext context)
        {
            GC.KeepAlive(services);
            return ValueTask.CompletedTask;
        }
    }
}
