namespace Gantry.Node.Autoscaling;

/// <summary>
/// Decides how many workers the node should run, from samples of utilisation (running jobs over
/// capacity) and backlog (jobs queued in its queues, or a sign of them), taken every
/// <see cref="NodeOptions.AutoscaleInterval"/>. Up when the workers are busy and work waits
/// (3 busy samples in a row); down by one when they have been mostly idle with nothing waiting
/// (<see cref="DownSamples"/> samples). After a change it waits for the change to show before the
/// next. With 1 s samples a change in load is acted on within 3 to 8 s.
/// </summary>
internal sealed class Autoscaler(int min, int max, int workerCapacity)
{
    public const int UpSamples = 3;
    public const int DownSamples = 8;
    public const double BusyAbove = 0.75;
    public const double IdleBelow = 0.3;

    private readonly Queue<LoadSample> _samples = new();
    private int _cooldown;

    /// <summary>Adds a sample and returns the worker count wanted now (<paramref name="current"/> when nothing changes).</summary>
    public int Decide(int current, LoadSample sample)
    {
        _samples.Enqueue(sample);
        while (_samples.Count > DownSamples) _samples.Dequeue();
        if (current < min) return min;
        if (current > max) return max;
        if (_cooldown > 0) { _cooldown--; return current; }

        var recent = _samples.Reverse().Take(UpSamples).ToList();
        if (current < max && recent.Count == UpSamples && recent.All(s => s.Utilisation >= BusyAbove && s.Backlog > 0))
        {
            // Enough workers for the backlog at once, at least one more.
            var wanted = current + Math.Max(1, (int)Math.Min(int.MaxValue, recent[0].Backlog / Math.Max(workerCapacity, 1)));
            return Changed(Math.Min(max, wanted));
        }
        if (current > min && _samples.Count == DownSamples && _samples.All(s => s.Utilisation < IdleBelow && s.Backlog == 0))
            return Changed(current - 1);
        return current;
    }

    private int Changed(int to)
    {
        _samples.Clear();
        _cooldown = UpSamples;
        return to;
    }
}

/// <param name="Utilisation">Running jobs over the capacity of the workers that are up, 0–1.</param>
/// <param name="Backlog">Jobs waiting in the node's queues (an estimate when the link cannot count them).</param>
internal readonly record struct LoadSample(double Utilisation, long Backlog);
