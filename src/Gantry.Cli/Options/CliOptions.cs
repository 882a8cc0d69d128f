using System.CommandLine.Parsing;
using System.Globalization;
using Gantry.Jobs;

namespace Gantry.Cli.Options;

/// <summary>Options shared by several commands, and parsers that turn bad values into one clear line.</summary>
internal static class CliOptions
{
    /// <summary>--store and --db, for every command that opens a store.</summary>
    public static StoreLocationOptions StoreLocation() => new();

    /// <summary>--store, --db, --server and --token, for the commands that work against a store or a server alike.</summary>
    public static ControlOptions Control() => new();

    /// <summary>A Gantry server's base URL.</summary>
    public static Option<Uri?> Server(string description) => new("--server")
    {
        Description = description,
        HelpName = "url",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (ParseServerUrl(text) is { } uri) return uri;
            r.AddError($"--server: '{text}' is not an http(s) URL (e.g. http://127.0.0.1:5080)");
            return null;
        },
    };

    public static Uri? ParseServerUrl(string text) =>
        Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : null;

    /// <summary>A token for --server; GANTRY_TOKEN by default (read by <see cref="TokenOf"/>, so that help never prints it).</summary>
    public static Option<string?> Token(string description) => new("--token")
    {
        Description = description,
        HelpName = "token",
    };

    public static string? TokenOf(ParseResult parse, Option<string?> token) =>
        parse.GetValue(token) ?? Environment.GetEnvironmentVariable("GANTRY_TOKEN");

    /// <summary>Where the HTTP API listens: host:port, or off.</summary>
    public static Option<string> Listen() => new("--listen")
    {
        Description = $"Serve the HTTP API on host:port, or off (default {Hosting.ApiHosting.DefaultListen}; also GANTRY_LISTEN). Beyond loopback a token is required (GANTRY_TOKENS=scope:token,…)",
        HelpName = "host:port",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("GANTRY_LISTEN") is { Length: > 0 } env ? env : Hosting.ApiHosting.DefaultListen,
    };

    /// <summary>Host names the API answers besides loopback and its listen address.</summary>
    public static Option<string?> AllowedHosts() => new("--allowed-hosts")
    {
        Description = "Host names the API answers besides loopback and the address it listens on, comma-separated (a proxy's or DNS name; * for any). Without tokens other Host headers are refused, against DNS rebinding; with tokens any is answered unless this is given. Also allowed_hosts in the config file",
        HelpName = "host,…",
    };

    /// <summary>Browser origins allowed to call the API.</summary>
    public static Option<string?> CorsOrigins() => new("--cors-origins")
    {
        Description = "Web origins allowed to call the API from a browser (CORS), comma-separated, e.g. https://ui.example.com. Without, a browser page on another origin cannot change anything. Also cors_origins in the config file",
        HelpName = "origin,…",
    };

    /// <summary><c>--dashboard on|off</c>: the dashboard at <c>/</c> on the API's address.</summary>
    public static Option<string> Dashboard() => new("--dashboard")
    {
        Description = "Serve the dashboard at / on the API's address: on (default) or off. It uses the API's tokens: beyond loopback a token signs in",
        HelpName = "on|off",
        DefaultValueFactory = _ => "on",
    };

    /// <summary><c>--dashboard-hide-payloads</c>.</summary>
    public static Option<bool> DashboardHidePayloads() => new("--dashboard-hide-payloads")
    {
        Description = "Hide job payloads and results from read-only tokens and dashboard sessions (the API leaves them out too). Also dashboard_hide_payloads in the config file",
    };

    /// <summary>Reads <c>--dashboard</c>: true for on.</summary>
    public static bool DashboardOn(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "on" or "true" => true,
        "off" or "false" => false,
        _ => throw new InvalidInputException("--dashboard", $"'{value}' is not on or off"),
    };

    /// <summary><c>--metrics-listen</c> for a process without the API: <paramref name="what"/> on /metrics.</summary>
    public static Option<string> MetricsListen(string what) => new("--metrics-listen")
    {
        Description = $"Serve {what} (Prometheus text on /metrics, /health/live and /health/ready) on host:port, or off. Beyond loopback a token is required, as for the API",
        HelpName = "host:port",
        DefaultValueFactory = _ => "off",
    };

    /// <summary>Adds another name for an option (a name it had before its key was aligned with the library's).</summary>
    public static Option<T> WithAlias<T>(this Option<T> option, string alias)
    {
        option.Aliases.Add(alias);
        return option;
    }

    public static Option<bool> Json() => new("--json") { Description = "Print JSON instead of text" };

    /// <summary>The least level a long-running process logs.</summary>
    public static Option<Microsoft.Extensions.Logging.LogLevel> LogLevel() => new("--log-level")
    {
        Description = "Least level logged (Trace, Debug, Information, Warning, Error)",
        DefaultValueFactory = _ => Microsoft.Extensions.Logging.LogLevel.Information,
    };

    /// <summary>The configuration file; without it, ./gantry.json when present.</summary>
    public static Option<string?> Config() => new("--config")
    {
        Description = "Configuration file (default: ./gantry.json when present); binds job types to commands",
        HelpName = "path",
    };

    /// <summary>The full path a path flag names; one line naming <paramref name="flag"/> when the value is empty or no path.</summary>
    public static string FullPath(string? value, string flag)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new InvalidInputException(flag, "needs a path");
        try
        {
            return Path.GetFullPath(value);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new InvalidInputException(flag, $"'{value}' is not a path: {ex.Message}");
        }
    }

    /// <summary>Least interval of a loop (polling, rescuing, pinging): shorter would keep a core busy doing nothing.</summary>
    public static readonly TimeSpan LeastLoopInterval = Gantry.Server.Maintenance.MaintenanceOptions.LeastInterval;

    /// <summary>A duration flag, at least <paramref name="least"/> (zero by default); help prints its default in the form the parser reads.</summary>
    public static Option<FlagDuration?> Duration(string name, string description, TimeSpan? defaultValue = null, TimeSpan? least = null, string? why = null)
    {
        var floor = least ?? TimeSpan.Zero;
        var option = new Option<FlagDuration?>(name)
        {
            Description = description,
            HelpName = "duration",
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                var typed = Typed(r, name);
                if (!Durations.TryParse(text, out var value, out var tooLong))
                    r.AddError(tooLong ? $"{typed}: '{text}' is longer than any duration can be" : $"{typed}: '{text}' is not a duration (examples: 500ms, 30s, 1m30s, 2h, 7d)");
                else if (value < floor)
                    r.AddError($"{typed}: '{text}' is too short; it must be at least {Durations.Format(floor)}{(why is null ? "" : $" ({why})")}");
                else
                    return new FlagDuration(value);
                return null;
            },
        };
        if (defaultValue is { } d) option.DefaultValueFactory = _ => new FlagDuration(d);
        return option;
    }

    /// <summary>A rate flag (<c>100/s</c>, <c>600/m</c>, <c>1000/h</c>), read by <see cref="Gantry.Flow.QueueRate.Parse"/>; none when not given.</summary>
    public static Option<Gantry.Flow.QueueRate?> Rate(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "n/unit",
        CustomParser = r =>
        {
            var typed = Typed(r, name);
            try
            {
                return Gantry.Flow.QueueRate.Parse(r.Tokens.Count > 0 ? r.Tokens[0].Value : "", typed);
            }
            catch (InvalidInputException ex)
            {
                r.AddError($"{typed}: {ex.Problem}");
                return null;
            }
        },
    };

    /// <summary>The name the command line used for the option (an alias, or its name), for errors.</summary>
    private static string Typed(ArgumentResult result, string name) =>
        result.Parent is OptionResult { IdentifierToken.Value: { Length: > 0 } typed } && typed.StartsWith('-') ? typed.Split('=')[0] : name;

    /// <summary>A duration flag that paces a loop: at least <see cref="LeastLoopInterval"/>, since zero would spin.</summary>
    public static Option<FlagDuration?> Interval(string name, string description, TimeSpan defaultValue, TimeSpan? least = null) =>
        Duration(name, description, defaultValue, least ?? LeastLoopInterval, "a shorter interval keeps a core busy");

    /// <summary>A whole-number flag with a default, between <paramref name="least"/> and <paramref name="most"/>.</summary>
    public static Option<int> Count(string name, string description, int defaultValue, int least, int most = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "n",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r => ParseCount(r, name, least, most) ?? defaultValue,
    };

    /// <summary>A whole-number flag without a default, between <paramref name="least"/> and <paramref name="most"/> when given.</summary>
    public static Option<int?> OptionalCount(string name, string description, int least, int most = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "n",
        CustomParser = r => ParseCount(r, name, least, most),
    };

    private static int? ParseCount(ArgumentResult result, string name, int least, int most)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        // A whole number too long for an int is out of range, not malformed; the message says which bound it passed.
        if (!System.Numerics.BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            result.AddError($"{name}: '{text}' is not a whole number");
        else if (n < least || n > most)
            result.AddError($"{name}: '{text}' is out of range; it must be " + (most != int.MaxValue ? $"from {least} to {most}" : n < least ? $"at least {least}" : $"at most {most}"));
        else
            return (int)n;
        return null;
    }

    /// <summary>Parses <c>default:8,mail:2</c> into queue → concurrency.</summary>
    public static Option<QueueSpec> Queues(string defaultSpec) => new("--queues")
    {
        Description = "Queues to serve with their concurrency, e.g. default:8,mail:2",
        HelpName = "name:n,…",
        DefaultValueFactory = _ => new QueueSpec(ParseQueueSpec(defaultSpec, out var __)!),
        CustomParser = r =>
        {
            var text = string.Join(",", r.Tokens.Select(t => t.Value));
            var queues = ParseQueueSpec(text, out var error);
            if (queues is null) r.AddError($"--queues: {error}");
            return new QueueSpec(queues ?? new Dictionary<string, int>());
        },
    };

    public static IReadOnlyDictionary<string, int>? ParseQueueSpec(string text, out string? error)
    {
        error = null;
        var queues = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pieces = part.Split(':');
            var name = pieces[0];
            var concurrency = 10;
            if (pieces.Length > 2 || (pieces.Length == 2 && (!int.TryParse(pieces[1], NumberStyles.None, CultureInfo.InvariantCulture, out concurrency) || concurrency < 1)))
            {
                error = $"'{part}' is not name:concurrency with a concurrency of 1 or more (e.g. default:8)";
                return null;
            }
            try
            {
                Protocol.JobDraft.CheckName(name, "");
            }
            catch (InvalidInputException ex)
            {
                error = $"queue '{name}': {ex.Problem}";
                return null;
            }
            if (!queues.TryAdd(name, concurrency))
            {
                error = $"queue '{name}' is listed twice";
                return null;
            }
        }
        if (queues.Count == 0) error = "name at least one queue, e.g. default:8";
        return queues.Count == 0 ? null : queues;
    }

    /// <summary>
    /// A queue or job type to filter by: a name a job may have, checked as the API checks its filters, so that a mistake
    /// (<c>--queue ''</c>) is refused on every link instead of matching nothing on a store.
    /// </summary>
    public static Option<string?> NameFilter(string name, string alias, string description, string helpName) =>
        CheckedText(new Option<string?>(name, alias) { Description = description, HelpName = helpName }, Protocol.JobDraft.CheckName);

    /// <summary><c>--concurrency-key KEY</c> as a filter: only jobs with that key (a key a job may carry).</summary>
    public static Option<string?> ConcurrencyKeyFilter() => CheckedText(
        new Option<string?>("--concurrency-key") { Description = "Only jobs with this concurrency key (a tenant, a customer)", HelpName = "key" },
        Protocol.JobDraft.CheckConcurrencyKey);

    /// <summary>A text flag whose value <paramref name="check"/> (the rule the API and the stores apply) refuses as a usage error naming the flag.</summary>
    private static Option<string?> CheckedText(Option<string?> option, Action<string, string> check)
    {
        option.CustomParser = r =>
        {
            var value = r.Tokens.Count == 0 ? "" : r.Tokens[^1].Value;
            try
            {
                check(value, option.Name);
            }
            catch (InvalidInputException e)
            {
                r.AddError(e.Message);
            }
            return value;
        };
        return option;
    }

    /// <summary>Parses <c>k=v,k2=v2</c> (or repeated flags).</summary>
    public static Option<IReadOnlyDictionary<string, string>> Tags(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "key=value,…",
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => new Dictionary<string, string>(),
        CustomParser = r =>
        {
            var tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0) { r.AddError($"{name}: '{pair}' is not key=value"); return tags; }
                tags[pair[..eq]] = pair[(eq + 1)..];
            }
            return tags;
        },
    };

    public static Option<IReadOnlyList<string>> List(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "a,b,…",
        DefaultValueFactory = _ => [],
        CustomParser = r =>
        {
            var values = r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
            // Given, but empty (`--require ''`): a mistake, not "none" (leave the flag out for none).
            if (values.Length == 0 && r.Tokens.Count > 0) r.AddError($"{name}: '{string.Join(" ", r.Tokens.Select(t => t.Value))}' names nothing (give a,b,…, or leave {name} out)");
            return values;
        },
    };

    public static Option<JobState?> State() => State("job", JobStates.All, JobStates.ToText, JobStates.TryParse);

    /// <summary><c>--state</c> for one of <paramref name="all"/> states of a <paramref name="noun"/>, by its text form.</summary>
    public static Option<T?> State<T>(string noun, IReadOnlyList<T> all, Func<T, string> text, TryParseState<T> tryParse) where T : struct => new("--state")
    {
        Description = $"Only {noun}s in this state ({string.Join(", ", all.Select(text))})",
        HelpName = "state",
        CustomParser = r =>
        {
            var value = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (tryParse(value, out var state)) return state;
            r.AddError($"--state: '{value}' is not a {noun} state (one of {string.Join(", ", all.Select(text))})");
            return null;
        },
    };

    public delegate bool TryParseState<T>(string? text, out T state);

    public static Argument<Guid> JobId() => Id("job");

    /// <summary>The id argument of a <paramref name="noun"/> (a UUID).</summary>
    public static Argument<Guid> Id(string noun) => new("id")
    {
        Description = $"The {noun}'s id",
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Guid.TryParse(text, out var id)) return id;
            r.AddError($"'{text}' is not a {noun} id (expected a UUID such as 0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f)");
            return Guid.Empty;
        },
    };

}
