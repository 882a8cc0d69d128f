using Gantry.Jobs;

namespace Gantry.Storage;

/// <summary>
/// The fence: the condition under which a write about one attempt of a job applies, so that a stale writer (a worker
/// whose attempt was rescued, a report retried after its job moved on) changes nothing. The job row is still running
/// as that attempt, and (for a worker's report or lease) held by that worker. Every report, lease renewal and rescue
/// of both stores is written with it.
/// </summary>
internal static class FenceSql
{
    /// <summary>
    /// <c>{row}{key} = {id} AND {row}state = 'running' AND {row}attempt = {attempt} AND {row}worker_id = {worker}</c>.
    /// <paramref name="row"/> qualifies the job row's columns (<c>"j."</c>); <paramref name="key"/> is the column the row is
    /// found by (<c>id</c>, or the store's row key <c>seq</c>); a null <paramref name="worker"/> leaves the worker out (the
    /// rescuer's fence: whoever holds the attempt).
    /// </summary>
    public static string Attempt(string id = "@id", string attempt = "@attempt", string? worker = "@worker", string row = "", string key = "id") =>
        $"{row}{key} = {id} AND {row}state = '{JobState.Running.ToText()}' AND {row}attempt = {attempt}"
        + (worker is null ? "" : $" AND {row}worker_id = {worker}");

    /// <summary>The fence of a worker's report on named parameters: <c>@id</c>, <c>@attempt</c>, <c>@worker</c>.</summary>
    public static readonly string Report = Attempt();
}
