using Gantry.Storage;
using Gantry.Worker.Execution;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging;

namespace Gantry.Node.Upstream;

/// <summary>
/// The node's one link to the coordinator (a store, or a server over HTTP), used on behalf of all
/// its workers: claims go through as the node (the lease owner of every job its workers run),
/// reports of every worker are merged into one call, and new-job wake-ups reach every worker.
/// </summary>
internal sealed class NodeUpstream
{
    private readonly NodeOptions _options;

    public NodeUpstream(IWorkerLink link, NodeOptions options, ILogger logger, TimeProvider time)
    {
        Link = link;
        _options = options;
        Outage = new LinkOutage(logger, time);
        Reports = new ReportBatcher(link, Held, time, Outage);
        Wakeups = new JobWakeups(link);
    }

    public IWorkerLink Link { get; }
    /// <summary>Logs an outage of <see cref="Link"/> once, and its end.</summary>
    public LinkOutage Outage { get; }
    /// <summary>Every attempt the node holds for its workers, as its heartbeat names them.</summary>
    public HeldJobs Held { get; } = new();
    public ReportBatcher Reports { get; }
    public JobWakeups Wakeups { get; }
    public string NodeId => _options.NodeId;

    private int _fullClaims;

    /// <summary>Claims for one worker's free slots, under the node's lease; only what the worker asked for, never more.</summary>
    public async Task<IReadOnlyList<ClaimedJob>> ClaimAsync(IReadOnlyList<QueueDemand> demands, bool mayWait, IReadOnlyList<string> capabilities, IReadOnlyList<string> jobTypes, CancellationToken ct)
    {
        var jobs = await Link.ClaimAsync(new JobClaimParams(_options.NodeId, demands, _options.LeaseDuration, capabilities, jobTypes), mayWait, ct).ConfigureAwait(false);
        Held.Claimed(jobs);
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
