using Gantry.Jobs;
using Gantry.Scheduling;
using Gantry.Server.Scheduling;
using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Scheduling;

/// <summary>The firer on a real SQLite store with a clock the test moves: missed-fire policies, clock jumps, two firers at once.</summary>
public sealed class ScheduleFirerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 31, 9, 30, 0, TimeSpan.Zero);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "gantry-firer-" + Guid.NewGuid().ToString("N"));
    private readonly ManualClock _time = new(T0);
    private IJobStore _store = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _store = await OpenAsync();
    }

    private async Task<IJobStore> OpenAsync() =>
        await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(_dir, "gantry.db"), Time = _time }, CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private ScheduleFirer Firer(IJobStore? store = null) => new(store ?? _store, new ScheduleOptions(), NullLogger<ScheduleFirer>.Instance, _time);

    private async Task AddAsync(MissedFirePolicy missed, int maxCatchup = 10, string cron = "* * * * *") =>
        await _store.ScheduleUpsertAsync(new ScheduleUpsertParams(new ScheduleDefinition
        {
            Name = "every-minute", Cron = cron, Type = "noop", Missed = missed, MaxCatchup = maxCatchup,
        }), CancellationToken.None);

    private async Task<IReadOnlyList<string>> FireTimesAsync() =>
        (await _store.JobListAsync(new JobListParams { Limit = 1000 }, CancellationToken.None))
        .Select(j => j.Tags[ScheduleDefinition.FireTimeTag]).Order(StringComparer.Ordinal).ToArray();

    private static string At(DateTimeOffset t) => ScheduleDefinition.FireTimeText(t);

    [Fact]
    public async Task RunOnce_OnTime_OneJobPerFire_NoneTwice()
    {
        await AddAsync(MissedFirePolicy.Skip);
        var firer = Firer();
        for (var i = 0; i < 3; i++)
        {
            _time.Set(T0.AddMinutes(i + 1).AddMilliseconds(3));
            await firer.RunOnceAsync(CancellationToken.None);
            await firer.RunOnceAsync(CancellationToken.None);
        }
        Assert.Equal([At(T0.AddMinutes(1)), At(T0.AddMinutes(2)), At(T0.AddMinutes(3))], await FireTimesAsync());
    }

    [Fact]
    public async Task RunOnce_Skip_AfterDowntime_NoJobThenNextFireOnly()
    {
        await AddAsync(MissedFirePolicy.Skip);
        _time.Set(T0.AddMinutes(30).AddSeconds(30));
        Assert.Equal(0, await Firer().RunOnceAsync(CancellationToken.None));
        _time.Set(T0.AddMinutes(31));
        Assert.Equal(1, await Firer().RunOnceAsync(CancellationToken.None));
        Assert.Equal([At(T0.AddMinutes(31))], await FireTimesAsync());
    }

    [Fact]
    public async Task RunOnce_Once_AfterDowntime_OneJobForAllMissed()
    {
        await AddAsync(MissedFirePolicy.Once);
        _time.Set(T0.AddMinutes(30).AddSeconds(30));
        await Firer().RunOnceAsync(CancellationToken.None);
        await Firer().RunOnceAsync(CancellationToken.None);
        Assert.Equal([At(T0.AddMinutes(30))], await FireTimesAsync());
    }

    [Fact]
    public async Task RunOnce_All_AfterDowntime_AtMostMaxCatchup()
    {
        await AddAsync(MissedFirePolicy.All, maxCatchup: 4);
        _time.Set(T0.AddMinutes(30).AddSeconds(30));
        Assert.Equal(4, await Firer().RunOnceAsync(CancellationToken.None));
        Assert.Equal(0, await Firer().RunOnceAsync(CancellationToken.None));
        Assert.Equal(Enumerable.Range(27, 4).Select(m => At(T0.AddMinutes(m))), await FireTimesAsync());
    }

    [Fact]
    public async Task RunOnce_ClockSteppedBack_NothingFiresTwice()
    {
        await AddAsync(MissedFirePolicy.All);
        _time.Set(T0.AddMinutes(2).AddSeconds(1));
        await Firer().RunOnceAsync(CancellationToken.None);
        _time.Set(T0.AddMinutes(1).AddSeconds(1)); // an NTP step back
        Assert.Equal(0, await Firer().RunOnceAsync(CancellationToken.None));
        _time.Set(T0.AddMinutes(3).AddSeconds(1));
        await Firer().RunOnceAsync(CancellationToken.None);
        Assert.Equal([At(T0.AddMinutes(1)), At(T0.AddMinutes(2)), At(T0.AddMinutes(3))], await FireTimesAsync());
    }

    [Fact]
    public async Task RunOnce_TwoFirersAtOnce_OneJobPerFire()
    {
        await AddAsync(MissedFirePolicy.All, maxCatchup: 100, cron: "* * * * * *");
        await using var other = await OpenAsync();
        _time.Set(T0.AddSeconds(8));
        await Task.WhenAll(Task.Run(() => Firer().RunOnceAsync(CancellationToken.None)), Task.Run(() => Firer(other).RunOnceAsync(CancellationToken.None)));
        Assert.Equal(Enumerable.Range(1, 8).Select(s => At(T0.AddSeconds(s))), await FireTimesAsync());
    }

    [Fact]
    public async Task RunOnce_Paused_NothingFires()
    {
        await AddAsync(MissedFirePolicy.All);
        await _store.SchedulePauseAsync("every-minute", true, CancellationToken.None);
        _time.Set(T0.AddMinutes(5));
        Assert.Equal(0, await Firer().RunOnceAsync(CancellationToken.None));
        Assert.Empty(await FireTimesAsync());
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;
        public override DateTimeOffset GetUtcNow() => _now;
        public void Set(DateTimeOffset now) => _now = now;
    }
}
