using Gantry.Storage;

namespace Gantry.Storage.Tests;

public sealed class StoreSignalsTests
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task Cursor_SetWhileItsOwnerWasBusy_NextWaitReturnsAtOnce()
    {
        var signal = new AsyncSignal();
        var cursor = signal.Cursor();

        signal.Set(); // say, while the owner was claiming

        Assert.True(await cursor.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.False(await cursor.WaitAsync(TimeSpan.FromMilliseconds(20), Ct)); // seen once, not again
    }

    [Fact]
    public async Task Cursors_OneSet_WakesEveryCursor_NoneTakesItFromAnother()
    {
        var signal = new AsyncSignal();
        var a = signal.Cursor();
        var b = signal.Cursor();
        var waiting = a.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        signal.Set();

        Assert.True(await waiting);
        // b was not waiting when the set came, and still sees it: the auto-reset wait would have lost it.
        Assert.True(await b.WaitAsync(TimeSpan.FromSeconds(30), Ct));
    }

    [Fact]
    public async Task Cursor_NothingSet_TimesOutFalse()
    {
        var cursor = new AsyncSignal().Cursor();
        Assert.False(await cursor.WaitAsync(TimeSpan.FromMilliseconds(20), Ct));
    }

    [Fact]
    public async Task Cursor_ManySetsAcrossThreads_EveryWaitAfterASetReturns()
    {
        var signal = new AsyncSignal();
        var cursor = signal.Cursor();
        var setter = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                signal.Set();
                await Task.Yield();
            }
        }, Ct);
        var woken = 0;
        while (!setter.IsCompleted || signal.Count != 0 && woken == 0)
            if (await cursor.WaitAsync(TimeSpan.FromMilliseconds(50), Ct)) woken++;
        await setter;
        Assert.True(woken > 0);
        Assert.Equal(200, signal.Count);
        // Sets after the loop's last wait are seen by the next one; after that, none is left to see.
        await cursor.WaitAsync(TimeSpan.FromMilliseconds(20), Ct);
        Assert.False(await cursor.WaitAsync(TimeSpan.FromMilliseconds(20), Ct));
    }

    [Fact]
    public void PollFor_WithCrossProcessSignals_WaitsTheNetInterval_OtherwiseTheGivenPoll()
    {
        var signals = new StoreSignals();
        Assert.Equal(TimeSpan.FromMilliseconds(200), signals.PollFor(TimeSpan.FromMilliseconds(200)));

        signals.CrossProcess = true;

        Assert.Equal(StoreSignals.CrossProcessPoll, signals.PollFor(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(TimeSpan.FromMinutes(1), signals.PollFor(TimeSpan.FromMinutes(1))); // never shorter than asked
    }
}
