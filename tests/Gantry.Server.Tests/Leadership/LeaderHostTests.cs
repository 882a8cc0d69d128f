using Gantry.Server.Leadership;
using Gantry.Server.Tests.Maintenance;
using Gantry.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Leadership;

/// <summary>
/// One election round at a time (<see cref="LeaderHost.ElectOnceAsync"/>) on a fake clock: two hosts on one SQLite
/// store, standing in for two processes, each with a probe service that counts the terms it ran in.
/// </summary>
public sealed class LeaderHostTests : FakeClockStoreTests
{
    private static readonly LeaderOptions Defaults = new();

    /// <summary>Counts starts and stops of the services of one host's terms.</summary>
    private sealed class Probe
    {
        public int Started;
        public int Stopped;
        public bool Running => Started > Stopped;
    }

    private sealed class ProbeService(Probe probe) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) { Interlocked.Increment(ref probe.Started); return Task.CompletedTask; }
        public Task StopAsync(CancellationToken cancellationToken) { Interlocked.Increment(ref probe.Stopped); return Task.CompletedTask; }
    }

    private (LeaderHost Host, Probe Probe) NewHost(string holder, IJobStore? store = null)
    {
        var probe = new Probe();
        var provider = new ServiceCollection().AddSingleton(probe).BuildServiceProvider();
        var services = new LeaderServices();
        services.Add<ProbeService>();
        var options = new LeaderOptions { HolderId = holder };
        return (new LeaderHost(store ?? Store, options, services, provider, NullLogger<LeaderHost>.Instance, Clock), probe);
    }

    [Fact]
    public async Task ElectOnce_TwoHosts_FirstLeadsAndRunsTheServices_SecondStandsBy()
    {
        var (a, probeA) = NewHost("a");
        var (b, probeB) = NewHost("b");

        Assert.Equal(Defaults.ElectInterval, await a.ElectOnceAsync(Ct));
        Assert.Equal(Defaults.ElectInterval, await b.ElectOnceAsync(Ct));

        Assert.True(a.IsLeader);
        Assert.False(b.IsLeader);
        Assert.Equal((1, 0), (probeA.Started, probeA.Stopped));
        Assert.Equal(0, probeB.Started);

        // Confirming the lead does not start the services again.
        Clock.Advance(Defaults.ElectInterval);
        await a.ElectOnceAsync(Ct);
        await b.ElectOnceAsync(Ct);
        Assert.Equal((1, 0), (probeA.Started, probeA.Stopped));
        Assert.False(b.IsLeader);
    }

    [Fact]
    public async Task ElectOnce_LeaderSilentPastTheTtl_OtherElected_AndTheFormerLeaderStopsItsServices()
    {
        var (a, probeA) = NewHost("a");
        var (b, probeB) = NewHost("b");
        await a.ElectOnceAsync(Ct);

        Clock.Advance(Defaults.Ttl - TimeSpan.FromSeconds(1));
        await b.ElectOnceAsync(Ct);
        Assert.False(b.IsLeader);

        Clock.Advance(TimeSpan.FromSeconds(2));
        await b.ElectOnceAsync(Ct);
        Assert.True(b.IsLeader);
        Assert.True(probeB.Running);

        await a.ElectOnceAsync(Ct);
        Assert.False(a.IsLeader);
        Assert.Equal((1, 1), (probeA.Started, probeA.Stopped));
    }

    [Fact]
    public async Task ElectOnce_StoreFailingForTheLeader_KeepsLeadingWithinTheTtl_ThenStandsDown()
    {
        var own = await Temp.OpenAnotherAsync(Ct);
        var (a, probe) = NewHost("a", own);
        await a.ElectOnceAsync(Ct);
        Assert.True(a.IsLeader);
        // A closed store fails every call, as one cut off would.
        await own.DisposeAsync();

        Clock.Advance(Defaults.Ttl - TimeSpan.FromSeconds(1));
        // A leader keeps its pace while failing: it must find out within the ttl whether it still leads.
        Assert.Equal(Defaults.ElectInterval, await a.ElectOnceAsync(Ct));
        Assert.True(a.IsLeader);
        Assert.True(probe.Running);

        Clock.Advance(TimeSpan.FromSeconds(1));
        await a.ElectOnceAsync(Ct);
        Assert.False(a.IsLeader);
        Assert.Equal((1, 1), (probe.Started, probe.Stopped));
    }

    [Fact]
    public async Task ElectOnce_StoreFailingForAStandby_BacksOffUpToTenSeconds()
    {
        var own = await Temp.OpenAnotherAsync(Ct);
        await own.DisposeAsync();
        var (a, _) = NewHost("a", own);

        var waits = new List<TimeSpan>();
        for (var i = 0; i < 7; i++) waits.Add(await a.ElectOnceAsync(Ct));

        Assert.Equal(new[] { 2, 4, 6, 8, 10, 10, 10 }.Select(s => TimeSpan.FromSeconds(s)), waits);
        Assert.False(a.IsLeader);
    }

    [Fact]
    public async Task Stop_Leader_ResignsSoAnotherIsElectedWithoutWaitingForTheTtl()
    {
        var (a, probeA) = NewHost("a");
        var (b, _) = NewHost("b");
        await a.ElectOnceAsync(Ct);

        await a.StopAsync(Ct);
        Assert.False(a.IsLeader);
        Assert.Equal((1, 1), (probeA.Started, probeA.Stopped));

        await b.ElectOnceAsync(Ct);
        Assert.True(b.IsLeader);
    }
}
