namespace Gantry.Cli.Options;

/// <summary>A duration flag's value: it prints in the short form the parser reads (<c>30s</c>, <c>1m30s</c>), so help's
/// <c>[default: …]</c> can be copied back onto the command line.</summary>
internal readonly record struct FlagDuration(TimeSpan Value)
{
    public override string ToString() => Durations.Format(Value);

    public static implicit operator TimeSpan(FlagDuration d) => d.Value;
}
