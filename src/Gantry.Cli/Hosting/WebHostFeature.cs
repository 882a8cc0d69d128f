using System.Diagnostics.CodeAnalysis;

namespace Gantry.Cli.Hosting;

/// <summary>
/// Whether this executable serves HTTP (ASP.NET Core and Kestrel, through <see cref="WebProcessHost"/>). On in
/// <c>gantry</c>; off in <c>gantry-worker</c>, whose project sets the switch: the trimmer then treats it as a constant
/// and leaves ASP.NET Core out of the Native AOT binary, and a flag that needs HTTP is refused.
/// </summary>
internal static class WebHostFeature
{
    public const string Switch = "Gantry.Cli.WebHost.IsSupported";

    [FeatureSwitchDefinition(Switch)]
    public static bool IsSupported => !AppContext.TryGetSwitch(Switch, out var on) || on;

    /// <summary>Refuses <paramref name="flag"/>, which needs HTTP, in an executable without it.</summary>
    public static void Require(string flag, string what)
    {
        if (!IsSupported) throw LeftOut(flag, what, "ASP.NET Core");
    }

    /// <summary>The one refusal of a feature <c>gantry-worker</c> leaves out: <paramref name="what"/> at <paramref name="where"/> needs <paramref name="part"/>.</summary>
    public static InvalidInputException LeftOut(string where, string what, string part) =>
        new(where, $"{what} needs {part}, which gantry-worker leaves out to stay small: use `gantry worker` for it");
}
