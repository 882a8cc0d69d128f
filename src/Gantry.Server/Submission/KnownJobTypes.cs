using System.Runtime.CompilerServices;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Server.Submission;

/// <summary>
/// Which job types a submission may name: the built-in ones, those a configuration binds to a
/// command, and those served by a worker that registered in the store. One rule for the CLI and
/// the API.
/// </summary>
internal static class KnownJobTypes
{
    /// <summary>
    /// How long the types found served in a store are taken as still served without asking it again. Each look lists the
    /// store's workers and reads their registrations: one more round trip and transaction for every submit of a type a
    /// worker serves, had the API looked each time. Only types found served are remembered: a type not among them is looked up afresh (a worker that
    /// has just registered serves it at once), and a type whose last worker left is still accepted for at most this long
    /// (its jobs then wait in the queue, as with allow_unknown_type).
    /// </summary>
    public static readonly TimeSpan ServedTypesFresh = TimeSpan.FromSeconds(5);

    private static readonly ConditionalWeakTable<IJobStore, ServedTypes> Served = [];

    /// <summary>Throws <see cref="InvalidInputException"/> naming the unknown types and listing the known ones.</summary>
    public static async Task CheckAsync(IJobStore store, IEnumerable<NewJob> jobs, IEnumerable<string> builtIn, CancellationToken ct)
    {
        var known = new SortedSet<string>(builtIn, StringComparer.Ordinal);
        var unknown = jobs.Select(j => j.Type).Where(t => !known.Contains(t)).Distinct().ToArray();
        if (unknown.Length == 0) return;
        var served = Served.GetOrCreateValue(store);
        if (served.Fresh() is { } recent && unknown.All(recent.Contains)) return;
        var now = await store.JobTypesServedAsync(ct).ConfigureAwait(false);
        served.Update(now);
        known.UnionWith(now);
        unknown = unknown.Where(t => !known.Contains(t)).ToArray();
        if (unknown.Length > 0)
            throw new InvalidInputException("type", $"unknown job type{(unknown.Length > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; known types: {string.Join(", ", known)} (use --allow-unknown-type to enqueue for a worker not started yet)");
    }

    /// <summary>The types last found served in one store, and when.</summary>
    private sealed class ServedTypes
    {
        private Snapshot? _last;

        public IReadOnlySet<string>? Fresh() =>
            Volatile.Read(ref _last) is { } last && Environment.TickCount64 - last.At < (long)ServedTypesFresh.TotalMilliseconds ? last.Types : null;

        public void Update(IReadOnlySet<string> types) => Volatile.Write(ref _last, new Snapshot(Environment.TickCount64, types));

        private sealed record Snapshot(long At, IReadOnlySet<string> Types);
    }
}
