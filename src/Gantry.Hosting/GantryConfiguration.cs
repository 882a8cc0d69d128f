using System.Globalization;
using Gantry.Server.Maintenance;
using Gantry.Worker;
using Microsoft.Extensions.Configuration;

namespace Gantry.Hosting;

/// <summary>
/// Reads <see cref="GantryOptions"/> from a configuration section. Durations are written as the CLI writes them
/// (<c>30s</c>, <c>500ms</c>, <c>1m30s</c>, ISO 8601 <c>PT30S</c>) or as .NET writes them (<c>00:00:30</c>). A value that
/// does not parse, and a key Gantry does not know (a typo would otherwise be ignored), are recorded with their key and
/// reported when the host starts.
/// </summary>
internal static partial class GantryConfiguration
{
    private static readonly string[] TopKeys = ["Store", "Migrate", "Server", "Token", "Worker", "Node", "Maintenance"];

    private static readonly string[] WorkerKeys =
    [
        "WorkerId", "Name", "Queues", "Capacity", "Capabilities", "Tags", "PollInterval", "LeaseDuration", "HeartbeatInterval", "CommandPollInterval",
        "CancelGracePeriod", "DrainTimeout", "ProgressInterval", "MaxPrefetch", "CheckpointInterval", "MaxCheckpointBytes", "DefaultJobTimeout",
        "StopApplicationOnDrain", "Token",
    ];

    private static readonly string[] MaintenanceKeys =
    [
        "Enabled", "SchedulerInterval", "RescuerInterval", "CleanerInterval", "Retention", "WorkerRetention", "DeadWorkerTimeout",
        "DeadWorkerInterval", "UpkeepInterval",
    ];

    /// <param name="otherKeys">Keys of the section that other parts of Gantry read (<see cref="GantryBuilder.AcceptSetting"/>).</param>
    public static void Read(IConfiguration section, GantryOptions o, IEnumerable<string>? otherKeys = null)
    {
        if (section is IConfigurationSection s) o.SectionPath = s.Path;
        var errors = o.ReadErrors;
        errors.Clear();
        Unknown(section, [.. TopKeys, .. otherKeys ?? []], o.Key(""), errors);
        o.Store = section["Store"] ?? o.Store;
        o.Server = section["Server"] ?? o.Server;
        o.Token = section["Token"] ?? o.Token;
        o.Migrate = Bool(section, "Migrate", o.Key("Migrate"), errors) ?? o.Migrate;

        var w = section.GetSection("Worker");
        if (w.Exists())
        {
            Unknown(w, WorkerKeys, o.Key("Worker:"), errors);
            string K(string name) => o.Key("Worker:" + name);
            var worker = o.Worker;
            if (Queues(w, K("Queues"), errors) is { } queues) worker = worker with { Queues = queues };
            if (w["WorkerId"] is { Length: > 0 } id) worker = worker with { WorkerId = id };
            if (w["Name"] is { Length: > 0 } name) worker = worker with { Name = name };
            if (Int(w, "Capacity", K("Capacity"), errors) is { } capacity) worker = worker with { Capacity = capacity };
            if (List(w, "Capabilities") is { } caps) worker = worker with { Capabilities = caps };
            if (Tags(w, "Tags") is { } tags) worker = worker with { Tags = tags };
            if (Duration(w, "PollInterval", K("PollInterval"), errors) is { } poll) worker = worker with { PollInterval = poll };
            if (Duration(w, "LeaseDuration", K("LeaseDuration"), errors) is { } lease) worker = worker with { LeaseDuration = lease };
            if (Duration(w, "HeartbeatInterval", K("HeartbeatInterval"), errors) is { } heartbeat) worker = worker with { HeartbeatInterval = heartbeat };
            if (Duration(w, "CommandPollInterval", K("CommandPollInterval"), errors) is { } commandPoll) worker = worker with { CommandPollInterval = commandPoll };
            if (Duration(w, "CancelGracePeriod", K("CancelGracePeriod"), errors) is { } grace) worker = worker with { CancelGracePeriod = grace };
            if (Duration(w, "DrainTimeout", K("DrainTimeout"), errors) is { } drain) worker = worker with { DrainTimeout = drain };
            if (Duration(w, "ProgressInterval", K("ProgressInterval"), errors) is { } progress) worker = worker with { ProgressInterval = progress };
            if (Int(w, "MaxPrefetch", K("MaxPrefetch"), errors) is { } prefetch) worker = worker with { MaxPrefetch = prefetch };
            if (Duration(w, "CheckpointInterval", K("CheckpointInterval"), errors) is { } checkpoint) worker = worker with { CheckpointInterval = checkpoint };
            if (Int(w, "MaxCheckpointBytes", K("MaxCheckpointBytes"), errors) is { } bytes) worker = worker with { MaxCheckpointBytes = bytes };
            if (Duration(w, "DefaultJobTimeout", K("DefaultJobTimeout"), errors) is { } timeout) worker = worker with { DefaultJobTimeout = timeout };
            o.StopApplicationOnDrain = Bool(w, "StopApplicationOnDrain", K("StopApplicationOnDrain"), errors) ?? o.StopApplicationOnDrain;
            o.WorkerToken = w["Token"] ?? o.WorkerToken;
            o.Worker = worker;
        }

        ReadNode(section.GetSection("Node"), o, errors);

        var m = section.GetSection("Maintenance");
        if (m.Exists())
        {
            Unknown(m, MaintenanceKeys, o.Key("Maintenance:"), errors);
            string K(string name) => o.Key("Maintenance:" + name);
            o.MaintenanceEnabled = Bool(m, "Enabled", K("Enabled"), errors) ?? o.MaintenanceEnabled;
            var mo = o.Maintenance;
            if (Duration(m, "SchedulerInterval", K("SchedulerInterval"), errors) is { } scheduler) mo = mo with { SchedulerInterval = scheduler };
            if (Duration(m, "RescuerInterval", K("RescuerInterval"), errors) is { } rescuer) mo = mo with { RescuerInterval = rescuer };
            if (Duration(m, "CleanerInterval", K("CleanerInterval"), errors) is { } cleaner) mo = mo with { CleanerInterval = cleaner };
            if (Duration(m, "Retention", K("Retention"), errors) is { } retention) mo = mo with { Retention = retention };
            if (Duration(m, "WorkerRetention", K("WorkerRetention"), errors) is { } workerRetention) mo = mo with { WorkerRetention = workerRetention };
            if (Duration(m, "DeadWorkerTimeout", K("DeadWorkerTimeout"), errors) is { } dead) mo = mo with { DeadWorkerTimeout = dead };
            if (Duration(m, "DeadWorkerInterval", K("DeadWorkerInterval"), errors) is { } deadInterval) mo = mo with { DeadWorkerInterval = deadInterval };
            if (Duration(m, "UpkeepInterval", K("UpkeepInterval"), errors) is { } upkeep) mo = mo with { UpkeepInterval = upkeep };
            o.Maintenance = mo;
        }
    }

    /// <summary>An object of queue name → concurrency (<c>{ "default": 8 }</c>); null when the key is absent.</summary>
    private static Dictionary<string, int>? Queues(IConfiguration section, string key, List<string> errors)
    {
        var queues = section.GetSection("Queues");
        if (!queues.Exists()) return null;
        var map = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var q in queues.GetChildren())
        {
            if (int.TryParse(q.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) map[q.Key] = n;
            else errors.Add($"{key}:{q.Key}: '{q.Value}' is not a number of jobs run at once");
        }
        if (map.Count == 0 && queues.Value is { Length: > 0 } text)
            errors.Add($"{key}: give an object of queue name → concurrency, e.g. {{ \"default\": 8 }} (got '{text}')");
        return map;
    }

    /// <summary>A list, as a JSON array or as one comma-separated value; null when the key is absent.</summary>
    private static string[]? List(IConfiguration section, string name)
    {
        var list = section.GetSection(name);
        if (!list.Exists()) return null;
        return list.Value is { } text
            ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : list.GetChildren().Select(c => c.Value ?? "").ToArray();
    }

    /// <summary>An object of key → value; null when the key is absent.</summary>
    private static Dictionary<string, string>? Tags(IConfiguration section, string name)
    {
        var tags = section.GetSection(name);
        return tags.Exists() ? tags.GetChildren().ToDictionary(t => t.Key, t => t.Value ?? "", StringComparer.Ordinal) : null;
    }

    private static void Unknown(IConfiguration section, string[] known, string prefix, List<string> errors)
    {
        foreach (var child in section.GetChildren())
            if (!known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
                errors.Add($"{prefix}{child.Key}: is not a Gantry setting (known here: {string.Join(", ", known)})");
    }

    private static TimeSpan? Duration(IConfiguration section, string name, string key, List<string> errors)
    {
        if (section[name] is not { Length: > 0 } text) return null;
        if (Durations.TryParse(text, out var value, out var tooLong) || TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value)) return value;
        errors.Add(tooLong ? $"{key}: '{text}' is longer than any duration can be" : $"{key}: '{text}' is not a duration (e.g. 30s, 500ms, 1m30s, 00:00:30)");
        return null;
    }

    private static int? Int(IConfiguration section, string name, string key, List<string> errors)
    {
        if (section[name] is not { Length: > 0 } text) return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        errors.Add(System.Numerics.BigInteger.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out _)
            ? $"{key}: '{text}' is out of range; it must be from {int.MinValue} to {int.MaxValue}"
            : $"{key}: '{text}' is not a whole number");
        return null;
    }

    private static bool? Bool(IConfiguration section, string name, string key, List<string> errors)
    {
        if (section[name] is not { Length: > 0 } text) return null;
        if (bool.TryParse(text, out var value)) return value;
        errors.Add($"{key}: '{text}' is not true or false");
        return null;
    }
}
