using Gantry.Storage;
using Gantry.Worker.Coordination;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging;

namespace Gantry.Node.Upstream;

/// <summary>
/// The node's one link to the coordinator (a store, or a server over HTTP), used on behalf of all its workers
/// through the node's <see cref="CoordinatorSession"/>: claims go through as the node (the lease owner of every job
/// its workers run), reports of every worker are merged into the session's writes, and new-job wake-ups reach every worker.
/// </summary>
internal sealed class NodeUpstream
{
    /// <summary>Most reports in one write: a node gathers whole batches of its workers (up to 1,000 each) while fewer are gathered.</summary>
    private const int MaxReportBatch = 2000;

    private readonly NodeOptions _options;

    public NodeUpstream(IWorkerLink link, NodeOptions options, ILogger logger, TimeProvider time)
    {
        _options = options;
        Session = new CoordinatorSession(link, new SessionOptions
        {
            Id = options.NodeId,
            LeaseDuration = options.LeaseDuration,
            HeartbeatInterval = options.EffectiveHeartbeatInterval,
            CommandPollInterval = options.CommandPollInterval,
            // A worker hears that its attempt was taken back at its next heartbeat to the node: one interval sooner.
            GuardedLease = options.LeaseDuration - options.EffectiveHeartbeatInterval,
            MaxReportBatch = MaxReportBatch,
            // Each worker logs its own: it gets the same answer.
            LogStaleReports = false,
        }, logger, time);
        Tally = new RunTally(time);
        Wakeups = new JobWakeups(link);
    }

    /// <summary>Registration, heartbeats, commands, held attempts and report writing, for the node as one worker.</summary>
    public CoordinatorSession Session { get; }
    public IWorkerLink Link => Session.Link;
    /// <summary>Logs an outage of <see cref="Link"/> once, and its end.</summary>
    public LinkOutage Outage => Session.Outage;
    /// <summary>Every attempt the node holds for its workers, as its heartbeat names them.</summary>
    public HeldJobs Held => Session.Held;
    public ReportBatcher Reports => Session.Reports;
    public JobWakeups Wakeups { get; }
    public string NodeId => _options.NodeId;

    /// <summary>What the node's workers ran, by outcome: every attempt's outcome comes through <see cref="ReportAsync"/>.</summary>
    public RunTally Tally { get; }

    private int _fullClaims;

    /// <summary>Queues reports of the node's workers; completes with, per report, whether the coordinator applied it.</summary>
    public Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports)
    {
        var written = Reports.AddAsync(reports);
        if (!written.IsFaulted) Tally.Add(reports);
        return written;
    }

    /// <summary>Claims for one worker's free slots, under the node's lease; only what the worker asked for, never more.</summary>
    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(IReadOnlyList<QueueDemand> demands, bool mayWait, IReadOnlyList<string> capabilities, IReadOnlyList<string> jobTypes, CancellationToken ct)
    {
        var jobs = await Session.ClaimAsync(new JobClaimParams(_options.NodeId, demands, _options.LeaseDuration, capabilities, jobTypes), mayWait, ct).ConfigureAwait(false);
        if (jobs.Count > 0 && jobs.Count >= demands.Sum(d => d.Limit)) Volatile.Write(ref _fullClaims, 1);
        return jobs;
    }

    /// <summary>True when a claim since the last call got all it asked for: a sign that work waits, for links that cannot count it.</summary>
    public bool TakeBacklogHint() => Interlocked.Exchange(ref _fullClaims, 0) == 1;

    /// <summary>The node as the coordinator sees it: one worker whose capacity is the sum of its workers'.</summary>
    public WorkerRegistration Registration(int workers) => new()
    {
        Id = _options.NodeId,
        Name = _options.Name,
        Host = System.Net.Dns.GetHostName(),
        ProcessId = Environment.ProcessId,
        Version = typeof(NodeUpstream).Assembly.GetName().Version?.ToString() ?? "",
        Queues = _options.Queues.ToDictionary(q => q.Key, q => q.Value * Math.Max(workers, 1), StringComparer.Ordinal),
        // No live worker, no capacity: the registry shows a node that cannot run anything as such.
        Capacity = _options.EffectiveWorkerCapacity * workers,
        JobTypes = _options.JobTypes,
        Capabilities = _options.Capabilities,
        Tags = new Dictionary<string, string>(_options.Tags) { ["gantry.node"] = "true" },
        HeartbeatIntervalSeconds = _options.EffectiveHeartbeatInterval.TotalSeconds,
    };
}
