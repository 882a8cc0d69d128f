using System.Collections;
using System.CommandLine.Help;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;

namespace Gantry.Cli.Hosting;

/// <summary>Where a setting's effective value came from, lowest precedence first.</summary>
internal enum SettingSource { Default, File, Env, Flag }

/// <summary>A setting's effective value as text (secrets redacted), where it came from, and the exact place (a file key, a variable).</summary>
internal sealed record SettingValue(string Key, string Value, SettingSource Source, string? From);

/// <summary>
/// The settings of a long-running command (<c>run</c>, <c>server</c>, <c>worker</c>, <c>node</c>), from three layers of
/// Microsoft.Extensions.Configuration, later ones winning: the configuration file's section named after the command
/// (<c>"worker": { "LeaseDuration": "10s" }</c>), environment variables (<c>GANTRY_WORKER__LEASEDURATION=10s</c>,
/// <c>__</c> between levels) and the command line's flags (an in-memory layer). Every flag is a setting, and its key is the
/// flag's name in PascalCase (<c>--lease-duration</c> ⇔ <c>LeaseDuration</c>), the name the library's
/// <c>IConfiguration</c> keys use too. A value from the file or the environment is read by the flag's own parser, so it is
/// checked exactly as the flag is; a map (<c>Queues</c>, <c>Tags</c>) or a list comes whole from the highest layer that sets
/// it. The variables read before this model (<c>GANTRY_STORE</c>, <c>GANTRY_DB</c>, <c>GANTRY_LISTEN</c>,
/// <c>GANTRY_TOKEN</c>) still work, below the command's own variables.
/// </summary>
internal sealed class CommandSettings
{
    public const string EnvPrefix = "GANTRY_";

    /// <summary>The commands whose settings the configuration file and the environment may hold, by section name.</summary>
    public static readonly string[] Sections = ["run", "server", "worker", "node"];

    /// <summary>Variables that named a setting before the per-command ones, by key: read as the setting's environment value.</summary>
    private static readonly Dictionary<string, string> LegacyEnv = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Store"] = "GANTRY_STORE", ["Db"] = "GANTRY_DB", ["Listen"] = "GANTRY_LISTEN", ["Token"] = "GANTRY_TOKEN",
    };

    /// <summary>Settings whose value is never printed.</summary>
    private static readonly HashSet<string> Secrets = new(StringComparer.OrdinalIgnoreCase) { "Token" };

    private readonly Command _command;
    private readonly string _fileName;
    private readonly IConfigurationProvider? _file;
    private readonly IConfigurationProvider _env;
    private readonly IConfigurationProvider _flags;
    private readonly Dictionary<Option, object?> _values = [];
    private readonly bool _legacyEnv;

    private CommandSettings(ParseResult parse, Command command, GantryConfig config, IConfigurationRoot root, bool hasFile, bool layers)
    {
        _legacyEnv = layers;
        Parse = parse;
        _command = command;
        Section = command.Name;
        Config = config;
        _fileName = config.Source is null ? GantryConfig.DefaultFile : Path.GetFileName(config.Source);
        var providers = root.Providers.ToList();
        _file = hasFile ? providers[0] : null;
        _env = providers[^2];
        _flags = providers[^1];
    }

    /// <summary>The parsed command line.</summary>
    public ParseResult Parse { get; }

    /// <summary>The command's section name (<c>worker</c>).</summary>
    public string Section { get; }

    /// <summary>The configuration file the settings were read with (its other sections: handlers, tokens…).</summary>
    public GantryConfig Config { get; }

    /// <summary>
    /// The settings of <paramref name="parse"/>'s command. Unknown keys in the file's command sections and in
    /// <c>GANTRY_&lt;COMMAND&gt;__…</c> variables are refused, naming their place.
    /// </summary>
    /// <param name="layers">False: the flags and defaults only (a worker a node started: the node has read the file and the environment).</param>
    public static CommandSettings Load(ParseResult parse, GantryConfig config, bool layers = true)
    {
        var command = parse.CommandResult.Command;
        var builder = new ConfigurationBuilder();
        var hasFile = layers && config.Source is not null;
        if (hasFile)
            builder.AddJsonFile(config.Source!, optional: false, reloadOnChange: false);
        if (layers) builder.Add(new EnvironmentVariablesConfigurationSource { Prefix = EnvPrefix });
        else builder.Add(new MemoryConfigurationSource());
        var flags = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var option in Of(command))
            if (parse.GetResult(option) is { Implicit: false } given)
                flags[$"{command.Name}:{KeyOf(option)}"] = string.Join(",", given.Tokens.Select(t => t.Value));
        builder.Add(new MemoryConfigurationSource { InitialData = flags });
        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (InvalidDataException ex)
        {
            // "Failed to load configuration from file …" says which file; what is wrong in it is the inner exception's.
            throw new InvalidInputException(Path.GetFileName(config.Source!), ex.InnerException?.Message ?? ex.Message);
        }
        var settings = new CommandSettings(parse, command, config, root, hasFile, layers);
        if (layers) settings.CheckKeys(parse.RootCommandResult.Command);
        return settings;
    }

    /// <summary>The options of <paramref name="command"/> that are settings: every visible one but <c>--config</c> and help.</summary>
    public static IEnumerable<Option> Of(Command command) =>
        command.Options.Where(o => !o.Hidden && o is not HelpOption && o is not VersionOption && o.Name != "--config");

    /// <summary>The configuration key of a flag: its name in PascalCase (<c>--lease-duration</c> → <c>LeaseDuration</c>).</summary>
    public static string KeyOf(Option option) =>
        string.Concat(option.Name.TrimStart('-').Split('-').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]));

    /// <summary>The effective value of <paramref name="option"/>: the flag, else the environment, else the file, else its default.</summary>
    public T Get<T>(Option<T> option)
    {
        if (_values.TryGetValue(option, out var cached)) return (T)cached!;
        var found = Find(option);
        T value;
        if (found is null || found.Value.Source == SettingSource.Flag)
        {
            value = Parse.GetValue(option)!;
        }
        else
        {
            // The flag's own parser reads the value, so the file and the environment are checked as the command line is.
            var parsed = _command.Parse([$"{option.Name}={found.Value.Text}"], new ParserConfiguration { ResponseFileTokenReplacer = null });
            if (parsed.Errors.Count > 0)
            {
                var message = parsed.Errors[0].Message;
                var problem = message.StartsWith(option.Name + ": ", StringComparison.Ordinal) ? message[(option.Name.Length + 2)..] : message;
                throw new InvalidInputException(found.Value.From, problem);
            }
            value = parsed.GetValue(option)!;
        }
        _values[option] = value;
        return value;
    }

    /// <summary>
    /// Runs <paramref name="read"/> (options built from the settings and validated); a check that names a setting whose value
    /// came from the file or the environment names that place instead (<c>GANTRY_NODE__AUTOSCALEIDLE: must be …</c>), and
    /// one that names it in words (the options' own name, <c>drain timeout</c>) names its flag.
    /// </summary>
    public T Checked<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (InvalidInputException ex) when (OptionNamed(ex.Where) is { } option)
        {
            if (Find(option) is { Source: SettingSource.File or SettingSource.Env } found) throw new InvalidInputException(found.From, ex.Problem);
            if (ex.Where != option.Name && !option.Aliases.Contains(ex.Where)) throw new InvalidInputException(option.Name, ex.Problem);
            throw;
        }
    }

    /// <summary>The command's option that <paramref name="where"/> names: its flag, an alias, or the flag in words.</summary>
    private Option? OptionNamed(string where)
    {
        var flag = where.StartsWith('-') ? where : "--" + where.Replace(' ', '-');
        return Of(_command).FirstOrDefault(o => o.Name == where || o.Aliases.Contains(where) || o.Name == flag || o.Aliases.Contains(flag));
    }

    /// <summary>Where <paramref name="option"/>'s value comes from.</summary>
    public SettingSource SourceOf(Option option) => Find(option)?.Source ?? SettingSource.Default;

    /// <summary>Every setting of the command with its effective value and source, secrets redacted.</summary>
    public IReadOnlyList<SettingValue> Effective()
    {
        var list = new List<SettingValue>();
        foreach (var option in Of(_command))
        {
            var key = KeyOf(option);
            var found = Find(option);
            var get = typeof(CommandSettings).GetMethod(nameof(Get))!.MakeGenericMethod(option.ValueType);
            object? value;
            try
            {
                value = get.Invoke(this, [option]);
            }
            catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is GantryException inner)
            {
                throw inner;
            }
            list.Add(new SettingValue(key, Display(key, value), found?.Source ?? SettingSource.Default, found?.From));
        }
        return list;
    }

    /// <summary>The value as the flag would be written, secrets redacted; empty when unset.</summary>
    private static string Display(string key, object? value)
    {
        if (value is null) return "";
        if (Secrets.Contains(key)) return "(redacted)";
        return value switch
        {
            StoreLocation store => store.Display,
            string s when key.Equals("Store", StringComparison.OrdinalIgnoreCase) => Gantry.Storage.Postgres.PostgresUrl.Redact(s),
            string s => s,
            IReadOnlyDictionary<string, string> tags => string.Join(",", tags.Select(t => $"{t.Key}={t.Value}")),
            IEnumerable<string> list => string.Join(",", list),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
    }

    private (SettingSource Source, string Text, string From)? Find(Option option)
    {
        var key = KeyOf(option);
        var path = $"{Section}:{key}";
        if (_flags.TryGet(path, out var flag) && flag is not null) return (SettingSource.Flag, flag, option.Name);
        if (Read(_env, path) is { } env) return (SettingSource.Env, env.Text, EnvName(path, env.Composite));
        if (_legacyEnv && LegacyEnv.TryGetValue(key, out var legacy) && Environment.GetEnvironmentVariable(legacy) is { Length: > 0 } old)
            return (SettingSource.Env, old, legacy);
        if (_file is not null && Read(_file, path) is { } file)
            return (SettingSource.File, file.Text, $"{_fileName}: {Section}.{key}");
        return null;
    }

    /// <summary>A value of one layer: a scalar as it is, or an object or array as the flag writes it (<c>a:1,b:2</c>, <c>k=v</c>, <c>a,b</c>).</summary>
    private (string Text, bool Composite)? Read(IConfigurationProvider provider, string path)
    {
        if (provider.TryGet(path, out var scalar) && scalar is not null) return (scalar, false);
        var children = provider.GetChildKeys([], path).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (children.Count == 0) return null;
        var option = Of(_command).First(o => string.Equals($"{Section}:{KeyOf(o)}", path, StringComparison.OrdinalIgnoreCase));
        var separator = option.ValueType == typeof(Options.QueueSpec) ? ":" : "=";
        var isList = option.ValueType == typeof(IReadOnlyList<string>);
        var parts = new List<string>();
        foreach (var child in children)
        {
            if (!provider.TryGet($"{path}:{child}", out var value) || value is null)
                throw new InvalidInputException(Where(provider, $"{path}:{child}"), "expected a value, not an object");
            parts.Add(isList ? value : $"{child}{separator}{value}");
        }
        if (!isList && option.ValueType != typeof(Options.QueueSpec) && option.ValueType != typeof(IReadOnlyDictionary<string, string>))
            throw new InvalidInputException(Where(provider, path), "expected a value, not an object or a list");
        return (string.Join(",", parts), true);
    }

    private string Where(IConfigurationProvider provider, string path) =>
        ReferenceEquals(provider, _env) ? EnvName(path, false) : $"{_fileName}: {path.Replace(':', '.')}";

    private static string EnvName(string path, bool composite) =>
        EnvPrefix + path.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant() + (composite ? "__*" : "");

    /// <summary>Refuses keys no command knows in the file's command sections and in <c>GANTRY_&lt;COMMAND&gt;__…</c> variables.</summary>
    private void CheckKeys(Command root)
    {
        foreach (var section in Sections)
        {
            if (root.Subcommands.FirstOrDefault(c => c.Name == section) is not { } command) continue;
            var known = Of(command).Select(KeyOf).ToList();
            if (_file is not null)
            {
                if (_file.TryGet(section, out var scalar) && scalar is not null)
                    throw new InvalidInputException($"{_fileName}: {section}", $"expected an object of settings, e.g. {{ \"LeaseDuration\": \"10s\" }}");
                foreach (var child in _file.GetChildKeys([], section).Distinct(StringComparer.OrdinalIgnoreCase))
                    if (!known.Contains(child, StringComparer.OrdinalIgnoreCase))
                        throw new InvalidInputException($"{_fileName}: {section}.{child}", $"unknown setting (known: {string.Join(", ", known)})");
            }
            var prefix = $"{EnvPrefix}{section.ToUpperInvariant()}__";
            foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
            {
                var name = (string)variable.Key;
                if (!name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) continue;
                var key = name[prefix.Length..].Split("__")[0];
                if (!known.Contains(key, StringComparer.OrdinalIgnoreCase))
                    throw new InvalidInputException(name, $"unknown setting (known for {section}: {string.Join(", ", known)})");
            }
        }
    }
}
