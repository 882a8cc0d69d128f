using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Gantry.Hosting;

internal static partial class GantryConfiguration
{
    /// <summary>The keys of <c>Gantry:Node</c>: the <c>gantry node</c> command's settings (its flags in PascalCase, as in
    /// gantry.json's <c>node</c> section), and what only an application sets (the worker program, extra arguments).</summary>
    private static readonly string[] NodeKeys =
    [
        "NodeId", "Name", "RunDir", "WorkerCommand", "WorkerArguments", "RelayWorkerOutput", "Workers", "MinWorkers", "MaxWorkers",
        "Queues", "WorkerCapacity", "Capabilities", "Tags", "JobTypes", "RestartBackoff", "RestartBackoffMax", "MaxRestarts", "RestartWindow",
        "StableAfter", "PingInterval", "PingTimeout", "StartTimeout", "LeaseDuration", "HeartbeatInterval", "DrainTimeout", "CancelGracePeriod",
        "AutoscaleTarget", "AutoscaleIdle", "AutoscaleInterval", "AutoscaleUpWindow", "AutoscaleDownWindow", "AutoscaleUpCooldown",
        "AutoscaleDownCooldown", "StopApplicationOnDrain",
    ];

    private static void ReadNode(IConfigurationSection n, GantryOptions o, List<string> errors)
    {
        if (!n.Exists()) return;
        Unknown(n, NodeKeys, o.Key("Node:"), errors);
        string K(string name) => o.Key("Node:" + name);
        var node = o.Node;
        if (n["NodeId"] is { Length: > 0 } id) node = node with { NodeId = id };
        if (n["Name"] is { Length: > 0 } name) node = node with { Name = name };
        if (n["RunDir"] is { Length: > 0 } runDir) node = node with { RunDirectory = Path.GetFullPath(runDir) };
        // A program and its first arguments: an array, or one path.
        var command = n.GetSection("WorkerCommand");
        if (command.Exists()) node = node with { WorkerCommand = command.Value is { } program ? [program] : [.. command.GetChildren().Select(c => c.Value ?? "")] };
        if (n.GetSection("WorkerArguments") is { } args && args.Exists())
            node = node with { WorkerArguments = args.Value is { } one ? [one] : [.. args.GetChildren().Select(c => c.Value ?? "")] };
        if (Bool(n, "RelayWorkerOutput", K("RelayWorkerOutput"), errors) is { } relay) node = node with { RelayWorkerOutput = relay };
        if (Int(n, "Workers", K("Workers"), errors) is { } workers) node = node with { Workers = workers };
        if (Int(n, "MinWorkers", K("MinWorkers"), errors) is { } min) node = node with { MinWorkers = min };
        if (Int(n, "MaxWorkers", K("MaxWorkers"), errors) is { } max) node = node with { MaxWorkers = max };
        if (Queues(n, K("Queues"), errors) is { } queues) node = node with { Queues = queues };
        if (Int(n, "WorkerCapacity", K("WorkerCapacity"), errors) is { } capacity) node = node with { WorkerCapacity = capacity };
        if (List(n, "Capabilities") is { } caps) node = node with { Capabilities = caps };
        if (Tags(n, "Tags") is { } tags) node = node with { Tags = tags };
        if (List(n, "JobTypes") is { } types) node = node with { JobTypes = types };
        if (Duration(n, "RestartBackoff", K("RestartBackoff"), errors) is { } backoff) node = node with { RestartBackoff = backoff };
        if (Duration(n, "RestartBackoffMax", K("RestartBackoffMax"), errors) is { } backoffMax) node = node with { RestartBackoffMax = backoffMax };
        if (Int(n, "MaxRestarts", K("MaxRestarts"), errors) is { } restarts) node = node with { MaxRestarts = restarts };
        if (Duration(n, "RestartWindow", K("RestartWindow"), errors) is { } window) node = node with { RestartWindow = window };
        if (Duration(n, "StableAfter", K("StableAfter"), errors) is { } stable) node = node with { StableAfter = stable };
        if (Duration(n, "PingInterval", K("PingInterval"), errors) is { } ping) node = node with { PingInterval = ping };
        if (Duration(n, "PingTimeout", K("PingTimeout"), errors) is { } pingTimeout) node = node with { PingTimeout = pingTimeout };
        if (Duration(n, "StartTimeout", K("StartTimeout"), errors) is { } start) node = node with { StartTimeout = start };
        if (Duration(n, "LeaseDuration", K("LeaseDuration"), errors) is { } lease) node = node with { LeaseDuration = lease };
        if (Duration(n, "HeartbeatInterval", K("HeartbeatInterval"), errors) is { } heartbeat) node = node with { HeartbeatInterval = heartbeat };
        if (Duration(n, "DrainTimeout", K("DrainTimeout"), errors) is { } drain) node = node with { DrainTimeout = drain };
        if (Duration(n, "CancelGracePeriod", K("CancelGracePeriod"), errors) is { } grace) node = node with { CancelGracePeriod = grace };
        var scale = node.Autoscale;
        if (Fraction(n, "AutoscaleTarget", K("AutoscaleTarget"), errors) is { } target) scale = scale with { Target = target };
        if (Fraction(n, "AutoscaleIdle", K("AutoscaleIdle"), errors) is { } idle) scale = scale with { Idle = idle };
        if (Duration(n, "AutoscaleInterval", K("AutoscaleInterval"), errors) is { } interval) scale = scale with { Interval = interval };
        if (Duration(n, "AutoscaleUpWindow", K("AutoscaleUpWindow"), errors) is { } upWindow) scale = scale with { UpWindow = upWindow };
        if (Duration(n, "AutoscaleDownWindow", K("AutoscaleDownWindow"), errors) is { } downWindow) scale = scale with { DownWindow = downWindow };
        if (Duration(n, "AutoscaleUpCooldown", K("AutoscaleUpCooldown"), errors) is { } upCooldown) scale = scale with { UpCooldown = upCooldown };
        if (Duration(n, "AutoscaleDownCooldown", K("AutoscaleDownCooldown"), errors) is { } downCooldown) scale = scale with { DownCooldown = downCooldown };
        o.StopApplicationOnDrain = Bool(n, "StopApplicationOnDrain", K("StopApplicationOnDrain"), errors) ?? o.StopApplicationOnDrain;
        o.Node = node with { Autoscale = scale };
    }

    /// <summary>A fraction from 0 to 1, written <c>0.75</c> or <c>75%</c>.</summary>
    private static double? Fraction(IConfiguration section, string name, string key, List<string> errors)
    {
        if (section[name] is not { Length: > 0 } text) return null;
        var t = text.Trim();
        var percent = t.EndsWith('%');
        if (double.TryParse(percent ? t[..^1] : t, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && (percent ? value / 100 : value) is var fraction and >= 0 and <= 1)
            return fraction;
        errors.Add($"{key}: '{text}' is not a fraction from 0 to 1 (e.g. 0.75 or 75%)");
        return null;
    }
}
