using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Protocol.Wire;

/// <summary>
/// What a worker protocol message must hold before it reaches the store: each check throws
/// <see cref="InvalidInputException"/> naming the field as it is on the wire (snake_case).
/// Text fields are checked for NUL when the JSON is read (<see cref="Serialization.TextFieldConverter"/>).
/// </summary>
public static class WireValidation
{
    /// <summary>Longest worker id or name: 200 characters.</summary>
    public const int MaxIdLength = 200;

    /// <summary>Checks a worker id as a request gives it (required, then as <see cref="Label"/>) and returns it; throws <see cref="InvalidInputException"/> naming <paramref name="where"/>.</summary>
    public static string WorkerId(string? id, string where = "worker_id")
    {
        if (string.IsNullOrWhiteSpace(id)) throw new InvalidInputException(where, "is required (the worker's id, as registered)");
        return Label(id, where);
    }

    /// <summary>A name shown in the registry and printed by <c>gantry workers</c>: at most <see cref="MaxIdLength"/>
    /// characters and no control character (a newline or a terminal escape would forge or garble what an operator reads).</summary>
    public static string Label(string value, string where)
    {
        if (value.Length > MaxIdLength) throw new InvalidInputException(where, $"is longer than {MaxIdLength} characters");
        if (value.Any(char.IsControl)) throw new InvalidInputException(where, "holds a control character (a newline, tab, escape…), which a name may not");
        return value;
    }

    internal static void Check(this WireWorkerId body) => WorkerId(body.WorkerId);

    internal static void Check(this WorkerRegistration r)
    {
        WorkerId(r.Id, "id");
        if (r.Name is not null) Label(r.Name, "name");
        if (string.IsNullOrWhiteSpace(r.Host)) throw new InvalidInputException("host", "is required (the machine the worker runs on)");
        Label(r.Host, "host");
        if (string.IsNullOrWhiteSpace(r.Version)) throw new InvalidInputException("version", "is required (the worker's version, shown in the registry)");
        Label(r.Version, "version");
        if (r.Capacity < 0) throw new InvalidInputException("capacity", $"must be 0 or more, got {r.Capacity}");
        if (r.Queues is null) throw new InvalidInputException("queues", "is required (queue name → the most jobs run from it at once)");
        foreach (var (queue, limit) in r.Queues)
        {
            JobDraft.CheckName(queue, $"queues.{queue}");
            if (limit < 0) throw new InvalidInputException($"queues.{queue}", $"must be 0 or more, got {limit}");
        }
        Strings(r.JobTypes, "job_types");
        for (var i = 0; i < r.JobTypes?.Count; i++) JobDraft.CheckName(r.JobTypes[i], $"job_types[{i}]");
        Strings(r.Capabilities, "capabilities");
        if (r.Tags is not null)
            foreach (var (key, value) in r.Tags)
            {
                Label(key, "tags");
                Label(value ?? throw new InvalidInputException($"tags.{key}", "must be a string, not null"), $"tags.{key}");
            }
    }

    internal static void Check(this WireFetchRequest r)
    {
        WorkerId(r.WorkerId);
        if (r.Queues is null || r.Queues.Count == 0) throw new InvalidInputException("queues", "name at least one queue with a limit");
        for (var i = 0; i < r.Queues.Count; i++)
        {
            var q = r.Queues[i] ?? throw new InvalidInputException($"queues[{i}]", "must be {\"queue\": name, \"limit\": n}, not null");
            JobDraft.CheckName(q.Queue ?? throw new InvalidInputException($"queues[{i}].queue", "is required"), $"queues[{i}].queue");
            if (q.Limit < 0) throw new InvalidInputException($"queues[{i}].limit", $"must be 0 or more, got {q.Limit}");
        }
        LeaseRange.Check(r.LeaseSeconds, "lease_seconds");
        if (!(r.WaitSeconds >= 0)) throw new InvalidInputException("wait_seconds", $"must be 0 or more seconds, got {r.WaitSeconds}");
        Strings(r.Capabilities, "capabilities");
        Strings(r.JobTypes, "job_types");
    }

    internal static void Check(this WireHeartbeatRequest r)
    {
        WorkerId(r.WorkerId);
        LeaseRange.Check(r.LeaseSeconds, "lease_seconds");
        if (r.Jobs is null) throw new InvalidInputException("jobs", "is required (the attempts the worker holds; [] for none)");
        for (var i = 0; i < r.Jobs.Count; i++)
            if (r.Jobs[i] is null) throw new InvalidInputException($"jobs[{i}]", "must be {\"job_id\": id, \"attempt\": n}, not null");
        if (r.Managed is not null)
            for (var i = 0; i < r.Managed.Count; i++)
                if (r.Managed[i] is null) throw new InvalidInputException($"managed[{i}]", "must be a managed worker, not null");
    }

    internal static void Check(this WireReportRequest r)
    {
        if (r.Reports is null) throw new InvalidInputException("reports", "is required (an array of reports)");
        for (var i = 0; i < r.Reports.Count; i++)
            if (r.Reports[i] is null) throw new InvalidInputException($"reports[{i}]", "must be a report, not null");
    }

    private static void Strings(IReadOnlyList<string>? values, string where)
    {
        if (values is null) return;
        for (var i = 0; i < values.Count; i++)
            if (string.IsNullOrWhiteSpace(values[i])) throw new InvalidInputException($"{where}[{i}]", "must not be empty");
            else Label(values[i], $"{where}[{i}]");
    }
}
