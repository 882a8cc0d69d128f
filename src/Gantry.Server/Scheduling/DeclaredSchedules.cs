using Gantry.Scheduling;
using Gantry.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Scheduling;

/// <summary>Schedules a process declares (in code, or in gantry.json), by origin; reconciled into the store at start.</summary>
internal sealed class DeclaredSchedules
{
    private readonly Dictionary<string, List<ScheduleDefinition>> _byOrigin = new(StringComparer.Ordinal);

    /// <summary>Declares <paramref name="definition"/> under <paramref name="origin"/>; validated now, so a bad one stops the start.</summary>
    public void Add(ScheduleDefinition definition, string origin = ScheduleOrigins.Code)
    {
        definition.Validate(Gantry.Protocol.JobLimits.Default, $"schedules.{definition.Name}");
        Declare(origin).Add(definition);
    }

    /// <summary>Makes <paramref name="origin"/> reconciled even with nothing declared: its stored schedules are then removed.</summary>
    public List<ScheduleDefinition> Declare(string origin)
    {
        if (!_byOrigin.TryGetValue(origin, out var list)) _byOrigin[origin] = list = [];
        return list;
    }

    public IReadOnlyDictionary<string, List<ScheduleDefinition>> ByOrigin => _byOrigin;
}

/// <summary>Reconciles the <see cref="DeclaredSchedules"/> into the store as the process starts (every process, not only the leader:
/// reconciling is idempotent).</summary>
internal sealed class DeclaredSchedulesReconciler(IJobStore store, DeclaredSchedules declared, ILogger<DeclaredSchedulesReconciler> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var (origin, definitions) in declared.ByOrigin)
        {
            var result = await Schedules.ReconcileAsync(store, origin, definitions, cancellationToken).ConfigureAwait(false);
            if (result.Created + result.Updated + result.Removed > 0) ScheduleLog.Reconciled(logger, origin, result.Created, result.Updated, result.Removed);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
