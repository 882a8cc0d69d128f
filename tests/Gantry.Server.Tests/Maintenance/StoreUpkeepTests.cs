using Gantry.Server.Maintenance;
using Gantry.Storage;
using Gantry.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Maintenance;

public sealed class StoreUpkeepTests : FakeClockStoreTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private StoreUpkeep Upkeep() => new(Store, new MaintenanceOptions { UpkeepInterval = Interval }, NullLogger<StoreUpkeep>.Instance, Clock);

    [Fact]
    public async Task RunOnce_SqliteStore_NothingToClear()
    {
        // SQLite has no dead rows for upkeep to clear: the round is a no-op that still succeeds.
        await Store.EnqueueAsync(StoreTestExtensions.Job(), Ct);
        Assert.Equal(0, await Upkeep().RunOnceAsync(Ct));
    }

    [Fact]
    public async Task WaitForNextRound_StoreWhoseSignalsMissOtherProcesses_WaitsOneInterval()
    {
        // SQLite's signals carry this process's writes only, so the quiet wait is the interval itself.
        Assert.Equal(Interval, Store.Signals.PollFor(Interval));
        var upkeep = Upkeep();
        await upkeep.RunOnceAsync(Ct);

        var moved = await Clock.AdvanceUntilAsync(upkeep.WaitForNextRoundAsync(Ct), TimeSpan.FromMilliseconds(250), TimeSpan.FromMinutes(1));

        Assert.InRange(moved, Interval, Interval + TimeSpan.FromMilliseconds(250));
    }
}
