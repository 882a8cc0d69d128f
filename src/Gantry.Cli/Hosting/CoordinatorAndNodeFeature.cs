using System.Diagnostics.CodeAnalysis;

namespace Gantry.Cli.Hosting;

/// <summary>
/// Whether this executable hosts more than a worker: the coordinator's services that <see cref="ProcessHost"/> adds
/// (alert webhooks, the file's schedules, retention and limits, the jobs directory) and a node. On in <c>gantry</c>; off in
/// <c>gantry-worker</c>, whose one command runs a worker: the trimmer then leaves those services out of its Native AOT binary.
/// </summary>
internal static class CoordinatorAndNodeFeature
{
    public const string Switch = "Gantry.Cli.CoordinatorAndNode.IsSupported";

    [FeatureSwitchDefinition(Switch)]
    public static bool IsSupported => !AppContext.TryGetSwitch(Switch, out var on) || on;
}
