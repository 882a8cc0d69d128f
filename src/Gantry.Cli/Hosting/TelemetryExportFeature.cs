using System.Diagnostics.CodeAnalysis;

namespace Gantry.Cli.Hosting;

/// <summary>
/// Whether this executable exports metrics and traces over OTLP (OpenTelemetry's SDK and exporter, through
/// <see cref="TelemetrySettings"/>). On in <c>gantry</c>; off in <c>gantry-worker</c>, whose project sets the switch: the
/// trimmer then leaves OpenTelemetry out of its Native AOT binary, and a configured export is refused at start. The
/// instruments themselves (<c>System.Diagnostics</c> meters and activity sources) are in every build.
/// </summary>
internal static class TelemetryExportFeature
{
    public const string Switch = "Gantry.Cli.TelemetryExport.IsSupported";

    [FeatureSwitchDefinition(Switch)]
    public static bool IsSupported => !AppContext.TryGetSwitch(Switch, out var on) || on;

    /// <summary>Refuses the export configured at <paramref name="where"/> in an executable without it.</summary>
    public static void Require(string where)
    {
        if (!IsSupported) throw WebHostFeature.LeftOut(where, "exporting telemetry over OTLP", "OpenTelemetry's exporter");
    }
}
