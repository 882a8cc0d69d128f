using Gantry.Protocol;
using Gantry.Scheduling;
using Gantry.Server.Submission;
using Gantry.Storage;

namespace Gantry.Server.Scheduling;

/// <summary>
/// The schedule operations every way in shares (the CLI on a store, the API, gantry.json and declared schedules at
/// start): each definition validated before anything is stored.
/// </summary>
public static class Schedules
{
    /// <summary>Creates or replaces a schedule after checking it, and (unless allowed otherwise) that its job type is known.</summary>
    public static async Task<ScheduleUpsertOutcome> AddAsync(IJobStore store, ScheduleDefinition definition, bool allowUnknownType,
        IEnumerable<string> knownTypes, CancellationToken ct)
    {
        definition.Validate(JobLimits.Default);
        if (!allowUnknownType) await KnownJobTypes.CheckAsync(store, [definition.JobFor(DateTimeOffset.UnixEpoch)], knownTypes, ct).ConfigureAwait(false);
        return await store.ScheduleUpsertAsync(new ScheduleUpsertParams(definition, ScheduleOrigins.Manual), ct).ConfigureAwait(false);
    }

    /// <summary>Fires a schedule now, once, outside its expression (paused or not); its cursor stays. Returns the fire time and the job made.</summary>
    public static async Task<(DateTimeOffset FireTime, Guid? JobId)> TriggerAsync(IJobStore store, string name, TimeProvider time, CancellationToken ct)
    {
        var schedule = await store.ScheduleGetAsync(name, ct).ConfigureAwait(false) ?? throw new ScheduleNotFoundException(name);
        var now = time.GetUtcNow();
        var fired = await store.ScheduleFireAsync(new ScheduleFireParams(name, now, schedule.Definition.JobFor(now, time), AdvanceCursor: false), ct).ConfigureAwait(false);
        return (now, fired.JobId);
    }

    /// <summary>How a declared set of schedules changed the store.</summary>
    internal sealed record ReconcileResult(int Created, int Updated, int Removed);

    /// <summary>
    /// Makes the store hold <paramref name="declared"/>: each is created or updated (a schedule made by hand with the
    /// same name becomes declared), and each schedule of <paramref name="origin"/> no longer declared is removed.
    /// All are checked first: one bad definition stores nothing. Job types are not checked (the workers that serve them
    /// may start later).
    /// </summary>
    internal static async Task<ReconcileResult> ReconcileAsync(IJobStore store, string origin, IReadOnlyList<ScheduleDefinition> declared, CancellationToken ct)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in declared)
        {
            d.Validate(JobLimits.Default, $"schedules.{d.Name}");
            if (!names.Add(d.Name)) throw new InvalidInputException($"schedules.{d.Name}", "is declared more than once");
        }
        int created = 0, updated = 0, removed = 0;
        foreach (var d in declared)
        {
            switch (await store.ScheduleUpsertAsync(new ScheduleUpsertParams(d, origin), ct).ConfigureAwait(false))
            {
                case ScheduleUpsertOutcome.Created: created++; break;
                case ScheduleUpsertOutcome.Updated: updated++; break;
            }
        }
        foreach (var stale in (await store.ScheduleListAsync(ct).ConfigureAwait(false)).Where(s => s.Origin == origin && !names.Contains(s.Definition.Name)))
        {
            try
            {
                await store.ScheduleDeleteAsync(stale.Definition.Name, ct).ConfigureAwait(false);
                removed++;
            }
            catch (ScheduleNotFoundException)
            {
                // Another server reconciling the same declarations removed it first.
            }
        }
        return new ReconcileResult(created, updated, removed);
    }
}
