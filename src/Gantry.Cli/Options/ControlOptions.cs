using Gantry.Hosting.Control;

namespace Gantry.Cli.Options;

/// <summary>
/// Where a control command (submit, jobs, queues, workers) goes: a store (<c>--store</c>, <c>--db</c>,
/// <c>GANTRY_STORE</c>) or a server (<c>--server URL</c>, <c>GANTRY_SERVER</c>, with <c>--token</c> or
/// <c>GANTRY_TOKEN</c>). An explicit flag wins over the environment; --server wins over the store's
/// environment variables, and naming both a store and a server is refused.
/// </summary>
internal sealed class ControlOptions() : ServerOrStoreOptions(
    "Send the command to a Gantry server's HTTP API instead of opening the store (default $GANTRY_SERVER), e.g. http://host:5080",
    "The API token for --server (default $GANTRY_TOKEN)")
{
    public async Task<IGantryControl> OpenAsync(ParseResult parse, bool createIfMissing, CancellationToken ct)
    {
        var server = parse.GetValue(Server);
        var storeNamed = parse.GetResult(Store.Store) is { Implicit: false } || parse.GetResult(Store.Db) is { Implicit: false };
        if (server is not null && storeNamed) throw new InvalidInputException("--server", "give a server or a store (--store/--db), not both");
        if (server is null && !storeNamed && Environment.GetEnvironmentVariable("GANTRY_SERVER") is { Length: > 0 } env)
            server = CliOptions.ParseServerUrl(env) ?? throw new InvalidInputException("GANTRY_SERVER", $"'{env}' is not an http(s) URL (e.g. http://127.0.0.1:5080)");
        if (server is not null) return new ApiControl(server, CliOptions.TokenOf(parse, Token));
        return new StoreControl(await Store.OpenAsync(parse, createIfMissing, ct).ConfigureAwait(false));
    }
}

internal static class ControlOptionsExtensions
{
    /// <summary>Lets a command's collection initializer take all the options as one item.</summary>
    public static void Add(this Command command, ControlOptions options) => options.AddTo(command);
}
