
namespace Gantry.Cli.Options;

/// <summary>The HTTP API and dashboard of a process that runs the coordinator (<c>gantry run</c>, <c>gantry server</c>).</summary>
internal sealed class ApiCliOptions
{
    public Option<string> Listen { get; } = CliOptions.Listen();

    public Option<string?> AllowedHosts { get; } = CliOptions.AllowedHosts();

    public Option<string?> CorsOrigins { get; } = CliOptions.CorsOrigins();

    public Option<string> Dashboard { get; } = CliOptions.Dashboard();

    public Option<bool> HidePayloads { get; } = CliOptions.DashboardHidePayloads();

    public void AddTo(Command command)
    {
        command.Options.Add(Listen);
        command.Options.Add(AllowedHosts);
        command.Options.Add(CorsOrigins);
        command.Options.Add(Dashboard);
        command.Options.Add(HidePayloads);
    }

    /// <summary>The API to serve (with its tokens from <c>GANTRY_TOKENS</c> and the config file), or null for <c>--listen off</c>.</summary>
    public ApiHosting? Read(CommandSettings s, GantryConfig settings) =>
        ApiHosting.Parse(s.Get(Listen)!, Environment.GetEnvironmentVariable("GANTRY_TOKENS"), settings.Tokens)
            ?.WithBrowserAccess(s.Get(AllowedHosts), s.Get(CorsOrigins), settings)
            .WithDashboard(s.Get(Dashboard), s.Get(HidePayloads), settings);
}
