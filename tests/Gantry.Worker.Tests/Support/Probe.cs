using System.Collections.Concurrent;
using Gantry.Handlers;

namespace Gantry.Worker.Tests.Support;

/// <summary>
/// What the test handlers tell the test: which jobs started and in what order, when their token
/// fired and why, and how many ran at once. One per test, registered as a singleton.
/// </summary>
internal sealed class Probe
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<JobContext>> _started = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<CancelReason>> _tokenFired = new();
    private readonly ConcurrentDictionary<string, int> _runningPerQueue = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _maxPerQueue = new(StringComparer.Ordinal);
    private int _running, _maxRunning;

    /// <summary>Lets handlers that wait for it finish.</summary>
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets handlers that block their thread finish.</summary>
    public ManualResetEventSlim ReleaseThreads { get; } = new();

    /// <summary>Job ids in the order their handlers started.</summary>
    public ConcurrentQueue<Guid> StartOrder { get; } = new();

    /// <summary>When each handler started (wall clock).</summary>
    public ConcurrentDictionary<Guid, DateTimeOffset> StartedAt { get; } = new();

    public int MaxRunning => Volatile.Read(ref _maxRunning);

    public int MaxRunningIn(string queue) => _maxPerQueue.GetValueOrDefault(queue);

    public void Started(JobContext context)
    {
        StartedAt.TryAdd(context.JobId, DateTimeOffset.UtcNow);
        StartOrder.Enqueue(context.JobId);
        context.CancellationToken.Register(() => TokenSource(context.JobId).TrySetResult(context.CancelReason));
        StartSource(context.JobId).TrySetResult(context);
    }

    public Task<JobContext> WaitStartedAsync(Guid jobId) => StartSource(jobId).Task.WaitAsync(Deadline);

    public Task<CancelReason> WaitTokenFiredAsync(Guid jobId) => TokenSource(jobId).Task.WaitAsync(Deadline);

    public void Enter(string queue)
    {
        var total = Interlocked.Increment(ref _running);
        InterlockedMax(ref _maxRunning, total);
        var inQueue = _runningPerQueue.AddOrUpdate(queue, 1, (_, n) => n + 1);
        _maxPerQueue.AddOrUpdate(queue, inQueue, (_, max) => Math.Max(max, inQueue));
    }

    public void Leave(string queue)
    {
        _runningPerQueue.AddOrUpdate(queue, 0, (_, n) => n - 1);
        Interlocked.Decrement(ref _running);
    }

    /// <summary>Lets every waiting handler go, so nothing outlives the test.</summary>
    public void ReleaseAll()
    {
        Release.TrySetResult();
        ReleaseThreads.Set();
    }

    private TaskCompletionSource<JobContext> StartSource(Guid id) =>
        _started.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource<CancelReason> TokenSource(Guid id) =>
        _tokenFired.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
