namespace Gantry.Node.Autoscaling;

/// <summary>
/// Decides how many workers the node should run, from samples of utilisation (running jobs over
/// capacity) and backlog (jobs queued in its queues, or a sign of them), taken every
/// <see cref="AutoscaleOptions.Interval"/>. Up when the workers are busy and work waits for a whole
/// up-window (3 samples by default); down by one when they have been mostly idle with nothing waiting
/// for a whole down-window (8 samples). After a change it waits for its cooldown before the next, and
/// its windows start afresh. With the defaults a change in load is acted on within 3 to 8 s.
/// </summary>
internal sealed class Autoscaler(int min, int max, int workerCapacity, AutoscaleOptions? options = null)
{
    private readonly AutoscaleOptions _options = options ?? AutoscaleOptions.Default;
    private readonly Queue<LoadSample> _samples = new();
    private int _cooldown;

    /// <summary>The figures behind the last change <see cref="Decide"/> made; null before the first.</summary>
    public AutoscaleDecision? LastDecision { get; private set; }

    /// <summary>Adds a sample and returns the worker count wanted now (<paramref name="current"/> when nothing changes).</summary>
    public int Decide(int current, LoadSample sample)
    {
        _samples.Enqueue(sample);
        while (_samples.Count > Math.Max(_options.UpSamples, _options.DownSamples)) _samples.Dequeue();
        if (current < min) return Clamped(current, min, "below --min-workers", sample);
        if (current > max) return Clamped(current, max, "above --max-workers", sample);
        if (_cooldown > 0) { _cooldown--; return current; }

        var up = _samples.Reverse().Take(_options.UpSamples).ToList();
        if (current < max && up.Count == _options.UpSamples && up.All(s => s.Utilisation >= _options.Target && s.Backlog > 0))
        {
            // Enough workers for the backlog at once, at least one more.
            var wanted = current + Math.Max(1, (int)Math.Min(int.MaxValue, up[0].Backlog / Math.Max(workerCapacity, 1)));
            return Changed(current, Math.Min(max, wanted), $"at or above the target {_options.Target:P0} with jobs waiting for {_options.UpWindow.TotalSeconds:0.###}s", up,
                _options.UpCooldownSamples);
        }
        var down = _samples.Reverse().Take(_options.DownSamples).ToList();
        if (current > min && down.Count == _options.DownSamples && down.All(s => s.Utilisation < _options.Idle && s.Backlog == 0))
            return Changed(current, current - 1, $"below {_options.Idle:P0} with nothing waiting for {_options.DownWindow.TotalSeconds:0.###}s", down,
                _options.DownCooldownSamples);
        return current;
    }

    private int Clamped(int from, int to, string why, LoadSample sample)
    {
        LastDecision = new AutoscaleDecision(from, to, why, 1, sample.Utilisation, sample.Utilisation, sample.Backlog, TimeSpan.Zero);
        return to;
    }

    private int Changed(int from, int to, string why, IReadOnlyList<LoadSample> window, int cooldown)
    {
        LastDecision = new AutoscaleDecision(from, to, why, window.Count, window.Min(s => s.Utilisation), window.Max(s => s.Utilisation),
            window[0].Backlog, cooldown * _options.Interval);
        _samples.Clear();
        _cooldown = cooldown;
        return to;
    }
}

/// <param name="Utilisation">Running jobs over the capacity of the workers that are up, 0–1.</param>
/// <param name="Backlog">Jobs waiting in the node's queues (an estimate when the link cannot count them).</param>
internal readonly record struct LoadSample(double Utilisation, long Backlog);

/// <summary>A change of the worker count and the figures behind it, for the log.</summary>
/// <param name="Samples">Samples in the window that decided.</param>
/// <param name="Backlog">Jobs waiting at the last sample.</param>
internal sealed record AutoscaleDecision(int From, int To, string Why, int Samples, double LowestUtilisation, double HighestUtilisation, long Backlog, TimeSpan Cooldown);
