using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Node.Supervision;
using Gantry.Node.Upstream;
using Gantry.Storage;
using Gantry.Worker.Links;
using Gantry.Worker.Links.Ipc;
using Microsoft.Extensions.Logging;

namespace Gantry.Node.Ipc;

/// <summary>
/// The node's side of one connected worker: serves its fetches, waits and reports through the
/// node's upstream, and keeps the attempts it holds, so that the node's heartbeat renews their
/// leases, cancels reach the right process, and a crash ends them at once instead of at lease expiry.
/// </summary>
internal sealed class WorkerSession(IpcConnection connection, IpcHello hello, ManagedWorker worker, NodeUpstream upstream, ILogger logger, CancellationToken stopping)
{
    private readonly object _lock = new();
    private readonly Dictionary<Guid, HeldJob> _held = [];
    private readonly List<JobLease> _lost = [];
    private bool _ended;

    public IpcConnection Connection => connection;
    public IpcHello Hello => hello;

    /// <summary>Attempts started and not reported finished.</summary>
    public int Running
    {
        get { lock (_lock) return _held.Values.Count(h => h.Started); }
    }

    public bool Holds(Guid jobId)
    {
        lock (_lock) return _held.ContainsKey(jobId);
    }

    /// <summary>Asks the worker to stop a job (a user cancelled it); remembered so a crash ends it cancelled.
    /// <paramref name="now"/>: without the cancel grace period (the process tree is killed at once).</summary>
    public void Cancel(Guid jobId, bool now = false)
    {
        lock (_lock)
            if (_held.TryGetValue(jobId, out var held)) held.CancelRequested = true;
        Send(IpcMessageType.CancelJob, (jobId, now), static (w, c) => { w.Guid(c.jobId); w.Bool(!c.now); });
    }

    /// <summary>The coordinator took the attempt back: the worker learns it with its next heartbeat and stops it silently.</summary>
    public void Lose(JobLease lease)
    {
        lock (_lock)
        {
            if (!_held.Remove(lease.JobId)) return;
            _lost.Add(lease);
        }
    }

    /// <summary>The node cannot renew the leases: every attempt is taken back as if the coordinator had; returns them.</summary>
    public List<JobLease> LoseAll()
    {
        lock (_lock)
        {
            var all = _held.Values.Select(h => h.Lease).ToList();
            _held.Clear();
            _lost.AddRange(all);
            return all;
        }
    }

    public void Send<T>(IpcMessageType type, T state, Action<FrameWriter, T>? body)
    {
        try
        {
            connection.Send(type, 0, state, body);
        }
        catch (IOException)
        {
            // Gone: the supervisor sees the exit.
        }
    }

    /// <summary>
    /// The worker is gone: every attempt it held is ended by report. Started ones failed as lost
    /// (retried at once) — or requeued when <paramref name="requeueStarted"/> (a shutdown); ones never
    /// started go back to the queue without counting the attempt.
    /// </summary>
    public (List<JobReport> Reports, int Failed, int Requeued) End(string lostWorker, string what, bool requeueStarted)
    {
        lock (_lock)
        {
            _ended = true;
            var reports = new List<JobReport>(_held.Count);
            int failed = 0, requeued = 0;
            foreach (var held in _held.Values)
            {
                if (held.Started && !requeueStarted)
                {
                    reports.Add(WorkerLoss.Report(held.Lease, upstream.NodeId, held.MaxAttempts, held.CancelRequested, lostWorker, what));
                    failed++;
                }
                else
                {
                    reports.Add(new JobRequeuedReport(held.Lease.JobId, held.Lease.Attempt, upstream.NodeId));
                    requeued++;
                }
            }
            _held.Clear();
            return (reports, failed, requeued);
        }
    }

    public void OnMessage(IpcConnection c, IpcMessageType type, uint id, ReadOnlySpan<byte> body)
    {
        var reader = new FrameReader(body);
        switch (type)
        {
            case IpcMessageType.Fetch:
                _ = FetchAsync(id, IpcFrames.ReadFetch(ref reader));
                return;
            case IpcMessageType.WaitJobs:
                _ = WaitAsync(id, reader.Duration() ?? TimeSpan.FromSeconds(1));
                return;
            case IpcMessageType.Report:
                var reports = IpcFrames.ReadReports(ref reader);
                Finished(reports);
                _ = ReportAsync(id, reports);
                return;
            case IpcMessageType.Heartbeat:
                List<JobLease> lost;
                lock (_lock) { lost = [.. _lost]; _lost.Clear(); }
                Reply(IpcMessageType.Heartbeat, id, lost, IpcFrames.WriteLeases);
                return;
            case IpcMessageType.Started:
                var started = IpcFrames.ReadLeases(ref reader);
                lock (_lock)
                    foreach (var lease in started)
                        if (_held.TryGetValue(lease.JobId, out var held) && held.Lease == lease) held.Started = true;
                return;
            case IpcMessageType.Bye:
                return;
            default:
                NodeLog.IpcProblem(logger, $"worker {hello.LocalId} sent an unexpected message {type}");
                if (id != 0) c.SendError(id, $"unexpected message {type}");
                return;
        }
    }

    private async Task FetchAsync(uint id, IpcFetch fetch)
    {
        IReadOnlyList<ClaimedJob> jobs;
        try
        {
            jobs = await upstream.ClaimAsync(fetch.Demands, fetch.MayWait, hello.Capabilities, hello.JobTypes, stopping).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Fail(id, ex, "claim");
            return;
        }
        if (IpcFrames.JobsFitting(jobs) is var fit && fit < jobs.Count) jobs = Deliverable(jobs, fit);
        lock (_lock)
        {
            if (!_ended)
            {
                foreach (var job in jobs) _held[job.Id] = new HeldJob(new JobLease(job.Id, job.Attempt), job.MaxAttempts);
                // The worker hears which queues were held back, as over any link.
                var heldBack = ClaimedJobs.HeldBackOf(jobs);
                jobs = jobs.Count == 0 ? jobs : heldBack.Count == 0 ? jobs.ToArray() : new ClaimedJobs(jobs.ToArray(), heldBack);
            }
            else
            {
                // The worker died while the claim ran: the jobs never reach it.
                _ = upstream.ReportAsync(jobs.Select(j => (JobReport)new JobRequeuedReport(j.Id, j.Attempt, j.WorkerId)).ToArray());
                return;
            }
        }
        Reply(IpcMessageType.Fetch, id, jobs, IpcFrames.WriteJobs);
    }

    /// <summary>
    /// A claim larger than one IPC message: the worker is handed the leading <paramref name="fit"/> jobs; the rest go back
    /// to the queue without counting the attempt, for a later fetch. A first job that alone is larger than a message
    /// fails for good, as no worker of a node can be handed it (a worker outside a node can run it once retried).
    /// </summary>
    private IReadOnlyList<ClaimedJob> Deliverable(IReadOnlyList<ClaimedJob> jobs, int fit)
    {
        var reports = new List<JobReport>(jobs.Count - fit);
        if (fit == 0)
        {
            var job = jobs[0];
            var message = $"the job is {IpcFrames.SizeOf(job, IpcFrames.Exact):N0} bytes with its payload, checkpoint and " +
                $"dependency results, more than a node can hand a worker in one message ({IpcFrames.MaxFrameBytes:N0} bytes); run it on a worker outside a node";
            reports.Add(MessageParts.Undeliverable(job.Id, job.Attempt, job.WorkerId, message));
            NodeLog.IpcProblem(logger, $"job {job.Id} failed: {message}");
        }
        foreach (var job in jobs.Skip(Math.Max(fit, 1)))
            reports.Add(new JobRequeuedReport(job.Id, job.Attempt, job.WorkerId));
        _ = upstream.ReportAsync(reports);
        var heldBack = ClaimedJobs.HeldBackOf(jobs);
        IReadOnlyList<ClaimedJob> handed = jobs.Take(fit).ToArray();
        return heldBack.Count == 0 ? handed : new ClaimedJobs(handed, heldBack);
    }

    private async Task WaitAsync(uint id, TimeSpan timeout)
    {
        try
        {
            await upstream.Wakeups.WaitAsync(timeout, stopping).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Fail(id, ex, "wait");
            return;
        }
        Reply<object?>(IpcMessageType.WaitJobs, id, null, null);
    }

    private void Finished(List<JobReport> reports)
    {
        lock (_lock)
            foreach (var r in reports)
                if (r.EndsAttempt && _held.TryGetValue(r.JobId, out var held) && held.Lease.Attempt == r.Attempt)
                    _held.Remove(r.JobId);
    }

    private async Task ReportAsync(uint id, List<JobReport> reports)
    {
        IReadOnlyList<bool> applied;
        try
        {
            applied = await upstream.ReportAsync(reports).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Fail(id, ex, "report");
            return;
        }
        for (var i = 0; i < reports.Count; i++)
        {
            if (!applied[i]) continue;
            if (reports[i] is JobSucceededReport) worker.CountSucceeded();
            else if (reports[i] is JobFailedReport) worker.CountFailed();
        }
        Reply(IpcMessageType.Report, id, applied, IpcFrames.WriteApplied);
    }

    private void Reply<T>(IpcMessageType request, uint id, T state, Action<FrameWriter, T>? body)
    {
        try
        {
            connection.Send(request | IpcMessageType.ResponseBit, id, state, body);
        }
        catch (IOException)
        {
        }
    }

    private void Fail(uint id, Exception ex, string what)
    {
        if (ex is OperationCanceledException && stopping.IsCancellationRequested)
        {
            try { connection.SendError(id, "the node is stopping"); } catch (IOException) { }
            return;
        }
        try { connection.SendError(id, $"the node's {what} failed: {ex.Message}"); } catch (IOException) { }
    }

    private sealed class HeldJob(JobLease lease, int maxAttempts)
    {
        public JobLease Lease { get; } = lease;
        public int MaxAttempts { get; } = maxAttempts;
        public bool Started { get; set; }
        public bool CancelRequested { get; set; }
    }
}
