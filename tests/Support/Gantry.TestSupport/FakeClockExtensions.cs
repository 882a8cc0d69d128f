using Microsoft.Extensions.Time.Testing;

namespace Gantry.TestSupport;

public static class FakeClockExtensions
{
    /// <summary>
    /// Moves the clock by <paramref name="step"/> at a time, letting real time run a moment between steps, until
    /// <paramref name="task"/> completes; returns how far the clock moved. Stepping rather than one jump makes the
    /// result independent of whether the code under test had set its timer before the clock moved. Throws when
    /// the task is still running after <paramref name="most"/> on the clock.
    /// </summary>
    public static async Task<TimeSpan> AdvanceUntilAsync(this FakeTimeProvider clock, Task task, TimeSpan step, TimeSpan most)
    {
        var moved = TimeSpan.Zero;
        // A moment of real time first, so that work already under way reaches its wait.
        await Task.WhenAny(task, Task.Delay(5));
        while (!task.IsCompleted)
        {
            if (moved >= most) throw new TimeoutException($"still waiting after {most} on the fake clock");
            clock.Advance(step);
            moved += step;
            await Task.WhenAny(task, Task.Delay(1));
        }
        await task;
        return moved;
    }

    /// <summary>True when <paramref name="task"/> is still running after a moment of real time, with the clock standing still.</summary>
    public static async Task<bool> StillWaitingAsync(Task task)
    {
        await Task.WhenAny(task, Task.Delay(20));
        return !task.IsCompleted;
    }
}
