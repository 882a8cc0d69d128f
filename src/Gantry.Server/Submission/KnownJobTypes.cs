using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Server.Submission;

/// <summary>
/// Which job types a submission may name: the built-in ones, those a configuration binds to a
/// command, and those served by a worker that registered in the store. One rule for the CLI and
/// the API.
/// </summary>
public static class KnownJobTypes
{
    /// <summary>Throws <see cref="InvalidInputException"/> naming the unknown types and listing the known ones.</summary>
    public static async Task CheckAsync(IJobStore store, IEnumerable<NewJob> jobs, IEnumerable<string> builtIn, CancellationToken ct)
    {
        var known = new SortedSet<string>(builtIn, StringComparer.Ordinal);
        var unknown = jobs.Select(j => j.Type).Where(t => !known.Contains(t)).Distinct().ToArray();
        if (unknown.Length == 0) return;
        known.UnionWith(await store.JobTypesServedAsync(ct).ConfigureAwait(false));
        unknown = unknown.Where(t => !known.Contains(t)).ToArray();
        if (unknown.Length > 0)
            throw new InvalidInputException("type", $"unknown job type{(unknown.Length > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))}; known types: {string.Join(", ", known)} (use --allow-unknown-type to enqueue for a worker not started yet)");
    }
}
