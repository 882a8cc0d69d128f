using Gantry.Storage;
using Gantry.TestSupport;

namespace Gantry.Storage.Tests;

/// <summary>A cursor's timeout measured on the clock it is given, so a service on a fake clock waits on that clock.</summary>
public sealed class SignalCursorClockTests
{
    [Fact]
    public async Task WaitAsync_OnAFakeClock_TimesOutWhenThatClockPassesTheTimeout()
    {
        var clock = TestClock.New();
        var cursor = new AsyncSignal().Cursor();

        var wait = cursor.WaitAsync(TimeSpan.FromSeconds(30), clock, CancellationToken.None);
        Assert.True(await FakeClockExtensions.StillWaitingAsync(wait));

        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task WaitAsync_OnAFakeClock_SetEndsItWithoutTheClockMoving()
    {
        var signal = new AsyncSignal();
        var cursor = signal.Cursor();
        var wait = cursor.WaitAsync(TimeSpan.FromSeconds(30), TestClock.New(), CancellationToken.None);

        signal.Set();

        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
    }
}
