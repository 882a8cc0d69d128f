using Gantry.Cli.Output;

namespace Gantry.Cli;

/// <summary>The commands' JSON output contract, in a file of its own: gantry-worker compiles <c>Cli.cs</c> without it.</summary>
internal static partial class Cli
{
    internal static CliJson Json => CliJson.Default;
}
