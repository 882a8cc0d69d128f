namespace Gantry.TestSupport;

/// <summary>Waits, in real time, for something another thread does (a process exiting, a callback running).</summary>
public static class Eventually
{
    /// <summary>Returns once <paramref name="condition"/> holds; throws naming <paramref name="what"/> after <paramref name="most"/> (10 s by default).</summary>
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? most = null)
    {
        var until = DateTime.UtcNow + (most ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(2);
        }
    }
}
