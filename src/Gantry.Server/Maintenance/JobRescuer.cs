using Gantry.Jobs;
using Gantry.Storage;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Maintenance;

/// <summary>Takes back running jobs whose worker stopped renewing the lease (crashed, killed, cut off).</summary>
internal sealed class JobRescuer(IJobStore store, MaintenanceOptions options, ILogger<JobRescuer> logger, TimeProvider time)
    : MaintenanceService(logger, time)
{
    public override async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var rescued = await RescueAsync(store, ct).ConfigureAwait(false);
        if (rescued.Count > 0) MaintenanceLog.Rescued(Logger, rescued.Count);
        return rescued.Count;
    }

    /// <summary>Takes back the running jobs whose lease expired, and counts them.</summary>
    internal static async Task<IReadOnlyList<RescuedJob>> RescueAsync(IJobStore store, CancellationToken ct)
    {
        var rescued = await store.JobRescueExpiredAsync(new JobRescueParams(), ct).ConfigureAwait(false);
        foreach (var job in rescued)
            Gantry.Telemetry.GantryMetrics.JobsRescued.Add(1, new KeyValuePair<string, object?>("outcome", job.NewState.ToText()));
        return rescued;
    }

    protected override Task WaitAsync(CancellationToken ct) => Task.Delay(options.RescuerInterval, Time, ct);
}
