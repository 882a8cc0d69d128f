using Gantry.Storage;

namespace Gantry.Cli.Options;

/// <summary>
/// <c>--store</c> and its shortcut <c>--db</c>, added together to every command that opens a store.
/// Precedence: <c>--store</c>, then an explicit <c>--db</c>, then <c>GANTRY_STORE</c>, then
/// <c>GANTRY_DB</c>, then <c>./gantry.db</c>.
/// </summary>
internal sealed class StoreLocationOptions
{
    public const string DefaultDb = "./gantry.db";

    public Option<StoreLocation?> Store { get; } = new("--store")
    {
        Description = $"The store: {Stores.Forms} (default: $GANTRY_STORE, else --db)",
        HelpName = "url",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            try { return Stores.Parse(text, "--store"); }
            catch (InvalidInputException ex) { r.AddError(ex.Message); return null; }
        },
    };

    public Option<string> Db { get; } = new("--db")
    {
        Description = "Shortcut for --store sqlite:path (created on first use)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("GANTRY_DB") is { Length: > 0 } env ? env : DefaultDb,
        HelpName = "path",
    };

    /// <summary>The location the command line and environment name.</summary>
    public StoreLocation Resolve(ParseResult parse)
    {
        if (parse.GetValue(Store) is { } given) return given;
        if (parse.GetResult(Db) is { Implicit: false }) return new SqliteLocation(parse.GetValue(Db)!);
        if (Environment.GetEnvironmentVariable("GANTRY_STORE") is { Length: > 0 } env) return Stores.Parse(env, "GANTRY_STORE");
        return new SqliteLocation(parse.GetValue(Db)!);
    }

    public Task<IJobStore> OpenAsync(ParseResult parse, bool createIfMissing, CancellationToken ct) =>
        Stores.OpenAsync(Resolve(parse), createIfMissing, ct);

    /// <summary>
    /// The location a long-running command's settings name: <c>Store</c> or <c>Db</c>, whichever comes from the higher
    /// layer (flag, environment, file), <c>Store</c> on a tie; else <c>./gantry.db</c>.
    /// </summary>
    public StoreLocation Resolve(CommandSettings settings)
    {
        var store = settings.SourceOf(Store);
        if (store != SettingSource.Default && store >= settings.SourceOf(Db) && settings.Get(Store) is { } given) return given;
        return new SqliteLocation(settings.Get(Db)!);
    }

    public Task<IJobStore> OpenAsync(CommandSettings settings, bool createIfMissing, CancellationToken ct) =>
        Stores.OpenAsync(Resolve(settings), createIfMissing, ct);
}

internal static class StoreLocationOptionsExtensions
{
    /// <summary>Lets a command's collection initializer take both options as one item.</summary>
    public static void Add(this Command command, StoreLocationOptions options)
    {
        command.Options.Add(options.Store);
        command.Options.Add(options.Db);
    }
}
