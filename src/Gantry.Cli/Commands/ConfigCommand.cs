using Gantry.Cli.Output;

namespace Gantry.Cli.Commands;

/// <summary>
/// <c>gantry config show [run|server|worker|node] [--json] [flags of that command]</c>: the settings a command would run
/// with, each with its source (default, file, env, flag), secrets redacted. Flags after the command's name are read as
/// that command reads them, so a command line can be checked before it is run.
/// </summary>
internal static class ConfigCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("command")
        {
            Description = "The command whose settings to show",
            DefaultValueFactory = _ => "run",
        };
        target.AcceptOnlyFromAmong(CommandSettings.Sections);
        var json = CliOptions.Json();
        var config = CliOptions.Config();
        var show = new Command("show", "Print the settings run, server, worker or node would use, and where each comes from (default, file, env, flag); secrets redacted. Flags of that command may follow")
        {
            target, json, config,
        };
        show.TreatUnmatchedTokensAsErrors = false;
        show.SetHandler((parse, ct) =>
        {
            var name = parse.GetValue(target)!;
            // The command's own flags, read by the command itself.
            var inner = parse.RootCommandResult.Command.Parse([name, .. parse.UnmatchedTokens], new ParserConfiguration { ResponseFileTokenReplacer = null });
            if (inner.Errors.Count > 0) throw new InvalidInputException("", inner.Errors[0].Message);
            var file = GantryConfig.Load(parse.GetValue(config));
            var settings = CommandSettings.Load(inner, file).Effective();
            if (parse.GetValue(json))
            {
                Cli.WriteJson(new ConfigShowView(name, file.Source,
                    settings.Select(s => new SettingView(s.Key, s.Value.Length == 0 ? null : s.Value, Source(s.Source), s.From)).ToArray()), Cli.Json.ConfigShowView);
                return Task.FromResult(Cli.Ok);
            }
            Console.Out.WriteLine($"gantry {name}: settings from {(file.Source is null ? "no configuration file" : file.Source)}, GANTRY_{name.ToUpperInvariant()}__* and flags (later wins)");
            var keyWidth = settings.Max(s => s.Key.Length) + 2;
            var valueWidth = Math.Min(48, settings.Max(s => s.Value.Length) + 2);
            foreach (var s in settings)
            {
                var value = s.Value.Length == 0 ? "-" : s.Value;
                Console.Out.WriteLine($"  {s.Key.PadRight(keyWidth)}{value.PadRight(valueWidth)}{Source(s.Source)}{(s.From is null ? "" : $" ({s.From})")}");
            }
            return Task.FromResult(Cli.Ok);
        });
        return new Command("config", "Inspect the configuration (gantry.json sections run, server, worker, node; GANTRY_<COMMAND>__<KEY> variables; flags)") { show };
    }

    private static string Source(SettingSource source) => source switch
    {
        SettingSource.File => "file",
        SettingSource.Env => "env",
        SettingSource.Flag => "flag",
        _ => "default",
    };
}

/// <summary>What <c>gantry config show --json</c> prints.</summary>
internal sealed record ConfigShowView(string Command, string? File, SettingView[] Settings);

/// <param name="From">The exact place: the file's key, the variable, or the flag; null for a default.</param>
internal sealed record SettingView(string Key, string? Value, string Source, string? From);
