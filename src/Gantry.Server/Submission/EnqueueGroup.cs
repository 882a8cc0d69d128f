using System.Runtime.CompilerServices;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Telemetry;

namespace Gantry.Server.Submission;

/// <summary>
/// Concurrent enqueues on one store gathered into one insert (group commit). An enqueue that finds no insert in flight
/// goes at once; those that arrive while one is in flight wait for it and then go in together, each job with its own
/// caller's trace context. A burst of single submits (each API request, each <c>IJobClient</c> call) then costs one
/// transaction, and on PostgreSQL one WAL flush, per group instead of one per job: a commit's flush, not the insert, is
/// what bounds single submits. Nothing waits that would not have waited for the database anyway.
/// <para>
/// Only jobs without an idempotency key are grouped (<see cref="Takes"/>): their insert is one statement that can fail
/// only as a whole (the database gone or refusing), which is then every caller's error alike. A keyed job may find its
/// key taken or released by a concurrent writer, an outcome of its own, so keyed submits are inserted alone.
/// </para>
/// </summary>
internal sealed class EnqueueGroup
{
    /// <summary>The most jobs one grouped insert takes (a caller with more goes in a group of its own).</summary>
    public const int MaxJobs = 1000;

    private static readonly ConditionalWeakTable<IJobStore, EnqueueGroup> Groups = [];

    private readonly IJobStore _store;
    private readonly Lock _gate = new();
    private readonly Queue<Pending> _waiting = new();
    private bool _inserting;
    private long _inserts;

    private EnqueueGroup(IJobStore store) => _store = store;

    /// <summary>Whether <paramref name="jobs"/> may share an insert: none has an idempotency key.</summary>
    public static bool Takes(IReadOnlyList<NewJob> jobs)
    {
        foreach (var job in jobs)
            if (job.IdempotencyKey is not null) return false;
        return true;
    }

    /// <summary>The group of <paramref name="store"/>'s enqueues in this process.</summary>
    public static EnqueueGroup For(IJobStore store) => Groups.GetValue(store, s => new EnqueueGroup(s));

    /// <summary>How many inserts the group has made (each one transaction), for tests and diagnostics.</summary>
    public long Inserts => Interlocked.Read(ref _inserts);

    /// <summary>How many callers wait for the insert in flight to end, for tests and diagnostics.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate) return _waiting.Count;
        }
    }

    /// <summary>Enqueues <paramref name="jobs"/> (which the group <see cref="Takes"/>), all or none, in an insert shared with
    /// the enqueues that wait beside it.</summary>
    public async Task<IReadOnlyList<JobEnqueueResult>> EnqueueAsync(IReadOnlyList<NewJob> jobs, CancellationToken ct)
    {
        using var span = GantryTracing.StartEnqueue(jobs);
        var pending = new Pending(jobs, GantryTracing.CurrentContext(), ct);
        bool lead;
        lock (_gate)
        {
            _waiting.Enqueue(pending);
            lead = !_inserting;
            _inserting = true;
        }
        // The first caller starts the inserts, which go on a group at a time while callers wait: on the thread pool, as a
        // store may write synchronously and the caller is not to wait for other callers' groups; without the caller's
        // context, as they are nobody's span.
        if (lead)
            using (ExecutionContext.SuppressFlow())
                _ = Task.Run(InsertWhileWaitingAsync, CancellationToken.None);
        return await pending.Done.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    private async Task InsertWhileWaitingAsync()
    {
        while (true)
        {
            var group = new List<Pending>();
            lock (_gate)
            {
                var count = 0;
                while (_waiting.TryPeek(out var next) && (group.Count == 0 || count + next.Jobs.Count <= MaxJobs))
                {
                    _waiting.Dequeue();
                    // A caller that has given up before its insert began leaves nothing behind.
                    if (next.Ct.IsCancellationRequested)
                    {
                        next.Done.TrySetCanceled(next.Ct);
                        continue;
                    }
                    group.Add(next);
                    count += next.Jobs.Count;
                }
                if (group.Count == 0)
                {
                    _inserting = false;
                    return;
                }
            }
            try
            {
                // One caller's insert may be cancelled with its request; a shared one serves callers that still wait.
                var results = await InsertAsync(group, group.Count == 1 ? group[0].Ct : CancellationToken.None).ConfigureAwait(false);
                var at = 0;
                foreach (var p in group)
                {
                    p.Done.TrySetResult(results.Skip(at).Take(p.Jobs.Count).ToArray());
                    at += p.Jobs.Count;
                }
            }
            catch (Exception ex)
            {
                foreach (var p in group) p.Done.TrySetException(ex);
            }
        }
    }

    private Task<IReadOnlyList<JobEnqueueResult>> InsertAsync(List<Pending> group, CancellationToken ct)
    {
        Interlocked.Increment(ref _inserts);
        var jobs = new List<NewJob>();
        var traces = new List<(string?, string?)>();
        foreach (var p in group)
        {
            jobs.AddRange(p.Jobs);
            traces.AddRange(Enumerable.Repeat(p.Trace, p.Jobs.Count));
        }
        return _store.JobEnqueueManyAsync(new JobEnqueueParams(jobs) { Traces = traces }, ct);
    }

    private sealed class Pending(IReadOnlyList<NewJob> jobs, (string? Parent, string? State) trace, CancellationToken ct)
    {
        public IReadOnlyList<NewJob> Jobs { get; } = jobs;
        public (string? Parent, string? State) Trace { get; } = trace;
        public CancellationToken Ct { get; } = ct;

        public TaskCompletionSource<IReadOnlyList<JobEnqueueResult>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
