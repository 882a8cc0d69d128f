namespace Gantry.Node.Supervision;

/// <summary>
/// When a worker that exited is started again: after 1 s, 2 s, 4 s … (capped) for crashes in a
/// row, from the start again once it ran for <see cref="NodeOptions.StableAfter"/>; and not at all
/// once it restarted <see cref="NodeOptions.MaxRestarts"/> times within <see cref="NodeOptions.RestartWindow"/>.
/// </summary>
internal sealed class RestartPolicy(NodeOptions options)
{
    /// <summary>Decides after an exit nobody asked for, and records the restart in <paramref name="history"/>.</summary>
    public RestartDecision AfterExit(RestartHistory history, DateTimeOffset now, TimeSpan uptime)
    {
        if (uptime >= options.StableAfter) history.InARow = 0;
        while (history.Recent.Count > 0 && history.Recent.Peek() <= now - options.RestartWindow) history.Recent.Dequeue();
        if (history.Recent.Count >= options.MaxRestarts) return new RestartDecision(GiveUp: true, TimeSpan.Zero);
        var ticks = options.RestartBackoff.Ticks * Math.Pow(2, Math.Min(history.InARow, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(ticks, options.RestartBackoffMax.Ticks));
        history.InARow++;
        history.Recent.Enqueue(now);
        return new RestartDecision(GiveUp: false, delay);
    }
}

/// <summary>One worker's recent restarts.</summary>
internal sealed class RestartHistory
{
    public Queue<DateTimeOffset> Recent { get; } = new();
    /// <summary>Exits in a row without a stable run between them: the backoff's exponent.</summary>
    public int InARow { get; set; }
}

internal readonly record struct RestartDecision(bool GiveUp, TimeSpan Delay);
