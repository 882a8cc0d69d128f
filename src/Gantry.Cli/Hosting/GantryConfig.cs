using System.Text.Json;
using Gantry.Protocol;
using Gantry.Server.Api;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Handlers.Process;

namespace Gantry.Cli.Hosting;

/// <summary>
/// The configuration file (<c>gantry.json</c>, or <c>--config</c>): job types bound to commands, API
/// tokens (their SHA-256 only), telemetry export, and the settings of <c>run</c>, <c>server</c>, <c>worker</c> and
/// <c>node</c> (sections named after them, read by <see cref="CommandSettings"/>). Read strictly: an unknown field is an error naming where it is, so a typo never
/// silently drops a limit.
/// </summary>
internal sealed record GantryConfig
{
    public const string DefaultFile = "gantry.json";

    public IReadOnlyDictionary<string, ProcessHandlerSpec> Handlers { get; init; } = new Dictionary<string, ProcessHandlerSpec>();

    /// <summary>What every process handler gets where its own entry says nothing (<c>process_defaults</c>: <c>timeout_seconds</c>, <c>limits</c>); already applied to <see cref="Handlers"/>.</summary>
    public ProcessHandlerSpec? ProcessDefaults { get; init; }

    /// <summary>The limits of each process handler's type (defaults applied): a job's own <c>limits</c> may not be wider (<see cref="JobLimits.TypeLimits"/>).</summary>
    public IReadOnlyDictionary<string, Gantry.Jobs.ResourceLimits> TypeLimits =>
        Handlers.ToDictionary(h => h.Key, h => h.Value.Limits.Resources, StringComparer.Ordinal);

    /// <summary><see cref="JobLimits.Default"/> with the limits of the types this file binds.</summary>
    public JobLimits JobLimits => JobLimits.Default with { TypeLimits = TypeLimits };

    /// <summary>API tokens, kept as hashes; added to those of <c>GANTRY_TOKENS</c>.</summary>
    public IReadOnlyList<ApiToken> Tokens { get; init; } = [];

    /// <summary>Host names the API answers besides loopback and its listen address (<c>allowed_hosts</c>); added to <c>--allowed-hosts</c>.</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>Browser origins allowed to call the API (<c>cors_origins</c>); added to <c>--cors-origins</c>.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>Payloads and results hidden from read-only callers and dashboard sessions (<c>dashboard_hide_payloads</c>); or'd with <c>--dashboard-hide-payloads</c>.</summary>
    public bool DashboardHidePayloads { get; init; }

    /// <summary>Schedules declared in the file (<c>schedules</c>, keyed by name), reconciled into the store when a server starts.</summary>
    public IReadOnlyList<Gantry.Scheduling.ScheduleDefinition> Schedules { get; init; } = [];

    /// <summary>Per-queue retention (<c>retention</c>, keyed by queue: <c>succeeded_seconds</c>, <c>dead_seconds</c>, <c>cancelled_seconds</c>), set when a server starts.</summary>
    public IReadOnlyList<Gantry.Storage.QueueRetention> Retention { get; init; } = [];

    /// <summary>Per-queue flow limits (<c>limits</c>, keyed by queue: <c>concurrency</c>, <c>per_key</c>, <c>rate</c>, <c>rate_per_key</c>), set when a server starts.</summary>
    public IReadOnlyList<Gantry.Flow.DeclaredQueueLimits> Limits { get; init; } = [];

    /// <summary>Alert webhooks (<c>alerts</c>: <c>webhooks</c>, <c>queue_stalled_after_seconds</c>), delivered by the leading coordinator.</summary>
    public Gantry.Server.Alerts.AlertOptions Alerts { get; init; } = new();

    /// <summary>Where to export metrics over OTLP; null for no export.</summary>
    public TelemetrySettings? Telemetry { get; init; }

    /// <summary>The job types this configuration knows without a registered worker: the built-in ones and those bound to commands.</summary>
    public IReadOnlyList<string> KnownJobTypes => BuiltInHandlers.Types.Concat(Handlers.Keys).Order(StringComparer.Ordinal).ToArray();

    /// <summary>Where it was read from, or null when there was no file.</summary>
    public string? Source { get; init; }

    public static readonly GantryConfig Empty = new();

    /// <summary>Loads <paramref name="path"/>, or ./gantry.json when it exists, or nothing.</summary>
    public static GantryConfig Load(string? path)
    {
        if (path is null)
        {
            if (!File.Exists(DefaultFile)) return Empty;
            path = DefaultFile;
        }
        else if (!File.Exists(path))
        {
            throw new InvalidInputException("--config", $"{path} does not exist");
        }
        var name = Path.GetFileName(path);
        JsonDocument doc;
        try
        {
            // A key given twice is refused, not taken last-wins: one of the two was meant, and the file does not say which.
            doc = JsonDocument.Parse(File.ReadAllText(path),
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false });
        }
        catch (JsonException ex)
        {
            // A duplicate is found after its object is read: the reader's position says nothing then, its message names the key.
            var what = ex.Message.Split(". ")[0].TrimEnd('.');
            throw new InvalidInputException(name, what.StartsWith("Duplicate property", StringComparison.Ordinal)
                ? $"malformed JSON: {what}"
                : $"malformed JSON (line {(ex.LineNumber ?? 0) + 1}, column {(ex.BytePositionInLine ?? 0) + 1}): {what}");
        }
        using (doc)
        {
            if (Gantry.Protocol.TextFields.LoneSurrogateAt(doc.RootElement) is { } bad)
                throw new InvalidInputException(bad.Length == 0 ? name : $"{name}: {bad.TrimStart('.')}", Gantry.Protocol.TextFields.SurrogateProblem);
            var root = Object(doc.RootElement, name);
            var handlers = new Dictionary<string, ProcessHandlerSpec>(StringComparer.Ordinal);
            var tokens = new List<ApiToken>();
            TelemetrySettings? telemetry = null;
            IReadOnlyList<string> allowedHosts = [], corsOrigins = [];
            var hidePayloads = false;
            var schedules = new List<Gantry.Scheduling.ScheduleDefinition>();
            var retention = new List<Gantry.Storage.QueueRetention>();
            var limits = new List<Gantry.Flow.DeclaredQueueLimits>();
            ProcessHandlerSpec? defaults = null;
            var alerts = new Gantry.Server.Alerts.AlertOptions();
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "handlers":
                        foreach (var h in Object(p.Value, $"{name}: handlers").EnumerateObject())
                            handlers[h.Name] = Handler(h.Name, h.Value, $"{name}: handlers.{h.Name}");
                        break;
                    case "tokens":
                        if (p.Value.ValueKind != JsonValueKind.Array) throw new InvalidInputException($"{name}: tokens", "expected an array of {\"name\", \"scope\", \"sha256\"} objects");
                        foreach (var (t, i) in p.Value.EnumerateArray().Select((t, i) => (t, i)))
                            tokens.Add(Token(t, $"{name}: tokens[{i}]"));
                        break;
                    case "telemetry":
                        telemetry = TelemetryFrom(p.Value, $"{name}: telemetry");
                        break;
                    case "allowed_hosts":
                        allowedHosts = ApiHosting.CheckHosts(Strings(p.Value, $"{name}: allowed_hosts"), $"{name}: allowed_hosts");
                        break;
                    case "cors_origins":
                        corsOrigins = ApiHosting.CheckOrigins(Strings(p.Value, $"{name}: cors_origins"), $"{name}: cors_origins");
                        break;
                    case "dashboard_hide_payloads":
                        hidePayloads = p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False ? p.Value.GetBoolean()
                            : throw new InvalidInputException($"{name}: dashboard_hide_payloads", "expected true or false");
                        break;
                    case "schedules":
                        foreach (var sch in Object(p.Value, $"{name}: schedules").EnumerateObject())
                        {
                            var definition = Gantry.Scheduling.ScheduleDocument.Read(sch.Value, $"{name}: schedules.{sch.Name}", sch.Name);
                            definition.Validate(JobLimits.Default, $"{name}: schedules.{sch.Name}");
                            schedules.Add(definition);
                        }
                        break;
                    case "retention":
                        foreach (var q in Object(p.Value, $"{name}: retention").EnumerateObject())
                            retention.Add(RetentionFrom(q.Name, q.Value, $"{name}: retention.{q.Name}"));
                        break;
                    case "limits":
                        foreach (var q in Object(p.Value, $"{name}: limits").EnumerateObject())
                        {
                            JobDraft.CheckName(q.Name, $"{name}: limits.{q.Name}");
                            limits.Add(new Gantry.Flow.DeclaredQueueLimits(q.Name, Gantry.Flow.QueueLimitsDocument.Read(q.Value, $"{name}: limits.{q.Name}")));
                        }
                        break;
                    case "run" or "server" or "worker" or "node":
                        // A command's settings: read with the environment and the flags, and checked key by key, by CommandSettings.
                        Object(p.Value, $"{name}: {p.Name}");
                        break;
                    case "alerts":
                        alerts = AlertsFrom(p.Value, $"{name}: alerts");
                        break;
                    case "process_defaults":
                        defaults = ProcessDefaultsFrom(p.Value, $"{name}: process_defaults");
                        break;
                    default:
                        throw new InvalidInputException(name, $"unknown field '{p.Name}' (known fields: handlers, process_defaults, alerts, tokens, telemetry, allowed_hosts, cors_origins, dashboard_hide_payloads, schedules, retention, limits, run, server, worker, node)");
                }
            }
            // Defaults fill what each handler leaves unset, wherever the section stands in the file.
            if (defaults is not null)
                foreach (var (type, spec) in handlers.ToArray())
                    handlers[type] = spec with { Timeout = spec.Timeout ?? defaults.Timeout, Limits = spec.Limits.Or(defaults.Limits) };
            return new GantryConfig
            {
                Handlers = handlers, ProcessDefaults = defaults, Alerts = alerts, Tokens = tokens, Telemetry = telemetry, AllowedHosts = allowedHosts, CorsOrigins = corsOrigins, Source = Path.GetFullPath(path),
                DashboardHidePayloads = hidePayloads, Schedules = schedules, Retention = retention, Limits = limits,
            };
        }
    }

    private static ProcessHandlerSpec Handler(string type, JsonElement e, string at)
    {
        JobDraft.CheckName(type, at);
        if (BuiltInHandlers.Types.Contains(type)) throw new InvalidInputException(at, $"'{type}' is a built-in job type; choose another name");
        IReadOnlyList<string>? command = null;
        var spec = new ProcessHandlerSpec { Command = [] };
        foreach (var p in Object(e, at).EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            spec = p.Name switch
            {
                "command" => spec with { Command = command = Strings(p.Value, where) },
                "working_directory" => spec with { WorkingDirectory = String(p.Value, where) },
                "env" => spec with { Env = Strings(p.Value, where) },
                "timeout_seconds" => spec with { Timeout = Seconds(p.Value, where) },
                "limits" => spec with { Limits = ProcessLimitsFrom(p.Value, where) },
                _ => throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: command, working_directory, env, timeout_seconds, limits)"),
            };
        }
        if (command is null || command.Count == 0 || string.IsNullOrWhiteSpace(command[0]))
            throw new InvalidInputException($"{at}.command", "is required: the program and its arguments, e.g. [\"python3\", \"worker.py\"]");
        return spec;
    }

    /// <summary><c>process_defaults</c>: a handler's <c>timeout_seconds</c> and <c>limits</c>, with the same names and rules.</summary>
    private static ProcessHandlerSpec ProcessDefaultsFrom(JsonElement e, string at)
    {
        var spec = new ProcessHandlerSpec { Command = [] };
        foreach (var p in Object(e, at).EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            spec = p.Name switch
            {
                "timeout_seconds" => spec with { Timeout = Seconds(p.Value, where) },
                "limits" => spec with { Limits = ProcessLimitsFrom(p.Value, where) },
                _ => throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: timeout_seconds, limits)"),
            };
        }
        return spec;
    }

    private static Gantry.Server.Alerts.AlertOptions AlertsFrom(JsonElement e, string at)
    {
        var options = new Gantry.Server.Alerts.AlertOptions();
        foreach (var p in Object(e, at).EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            switch (p.Name)
            {
                case "webhooks":
                    if (p.Value.ValueKind != JsonValueKind.Array) throw new InvalidInputException(where, "expected an array of {\"url\", \"secret\", \"events\"} objects");
                    options = options with { Webhooks = p.Value.EnumerateArray().Select((w, i) => Webhook(w, $"{where}[{i}]")).ToArray() };
                    break;
                case "queue_stalled_after_seconds":
                    options = options with { QueueStalledAfter = Seconds(p.Value, where) };
                    break;
                default:
                    throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: webhooks, queue_stalled_after_seconds)");
            }
        }
        return options;
    }

    private static Gantry.Server.Alerts.AlertWebhook Webhook(JsonElement e, string at)
    {
        Uri? url = null;
        string? secret = null;
        IReadOnlyList<string>? events = null;
        foreach (var p in Object(e, at).EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            switch (p.Name)
            {
                case "url":
                    url = Uri.TryCreate(String(p.Value, where), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u
                        : throw new InvalidInputException(where, "expected an http(s) URL, e.g. https://alerts.example.com/gantry");
                    break;
                case "secret":
                    secret = String(p.Value, where);
                    if (secret.Length < 16) throw new InvalidInputException(where, "must be at least 16 characters (the HMAC key receivers verify with)");
                    break;
                case "events":
                    events = Strings(p.Value, where);
                    foreach (var name in events)
                        if (!Gantry.Storage.AlertEvents.All.Contains(name))
                            throw new InvalidInputException(where, $"'{name}' is not an event ({string.Join(", ", Gantry.Storage.AlertEvents.All)})");
                    break;
                default:
                    throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: url, secret, events)");
            }
        }
        if (url is null) throw new InvalidInputException($"{at}.url", "is required: where alerts are posted");
        if (secret is null) throw new InvalidInputException($"{at}.secret", "is required: the key each body is signed with (HMAC-SHA256)");
        return new Gantry.Server.Alerts.AlertWebhook(url, secret, events ?? Gantry.Storage.AlertEvents.All);
    }

    private static ApiToken Token(JsonElement e, string at)
    {
        string? tokenName = null, hash = null;
        ApiScope? scope = null;
        foreach (var p in Object(e, at).EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            switch (p.Name)
            {
                case "name": tokenName = String(p.Value, where); break;
                case "scope":
                    scope = Enum.TryParse<ApiScope>(String(p.Value, where), ignoreCase: true, out var s) && Enum.IsDefined(s) ? s
                        : throw new InvalidInputException(where, "expected read, submit, worker or admin");
                    break;
                case "sha256":
                    hash = String(p.Value, where);
                    if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
                        throw new InvalidInputException(where, "expected the token's SHA-256 as 64 hex digits (gantry token new prints one)");
                    break;
                default:
                    throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: name, scope, sha256)");
            }
        }
        if (scope is null) throw new InvalidInputException($"{at}.scope", "is required: read, submit, worker or admin");
        if (hash is null) throw new InvalidInputException($"{at}.sha256", "is required: the token's SHA-256 as 64 hex digits (the token itself is never stored)");
        return new ApiToken(tokenName ?? $"{scope.Value.ToString().ToLowerInvariant()}-config", scope.Value, Convert.FromHexString(hash));
    }

    private static TelemetrySettings TelemetryFrom(JsonElement e, string at)
    {
        var settings = new TelemetrySettings();
        foreach (var p in Object(e, at).EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            settings = p.Name switch
            {
                "otlp_endpoint" => settings with
                {
                    OtlpEndpoint = Uri.TryCreate(String(p.Value, where), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri
                        : throw new InvalidInputException(where, "expected an http(s) URL, e.g. http://localhost:4317"),
                },
                "otlp_protocol" => settings with
                {
                    OtlpProtocol = String(p.Value, where) is "grpc" or "http/protobuf" ? String(p.Value, where)
                        : throw new InvalidInputException(where, "expected grpc or http/protobuf"),
                },
                "export_interval_seconds" => settings with { ExportInterval = Seconds(p.Value, where) },
                _ => throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: otlp_endpoint, otlp_protocol, export_interval_seconds)"),
            };
        }
        if (settings.OtlpEndpoint is null) throw new InvalidInputException($"{at}.otlp_endpoint", "is required: where the OpenTelemetry collector listens");
        return settings;
    }

    private static Gantry.Storage.QueueRetention RetentionFrom(string queue, JsonElement e, string at)
    {
        JobDraft.CheckName(queue, at);
        TimeSpan? succeeded = null, dead = null, cancelled = null;
        foreach (var p in Object(e, at).EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            var value = p.Value.ValueKind == JsonValueKind.Number && p.Value.GetDouble() is var seconds && seconds >= 0 && seconds <= Gantry.Storage.QueueRetention.LongestKeep.TotalSeconds
                ? TimeSpan.FromSeconds(seconds) : throw new InvalidInputException(where, "expected a number of seconds (0 to 100 years)");
            switch (p.Name)
            {
                case "succeeded_seconds": succeeded = value; break;
                case "dead_seconds": dead = value; break;
                case "cancelled_seconds": cancelled = value; break;
                default: throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: succeeded_seconds, dead_seconds, cancelled_seconds)");
            }
        }
        return new Gantry.Storage.QueueRetention(queue, succeeded, dead, cancelled);
    }

    private static ProcessLimits ProcessLimitsFrom(JsonElement e, string at)
    {
        var limits = new ProcessLimits();
        foreach (var p in Object(e, at).EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            limits = p.Name switch
            {
                "memory_mb" => limits with { MemoryMb = PositiveWhole(p.Value, where) },
                // The job document's limits take at most a million cores (Gantry.Jobs.ResourceLimits); a type's the same.
                "cpu" => limits with { Cpu = Positive(p.Value, where) is var cpu && cpu <= 1e6 ? cpu : throw new InvalidInputException(where, "expected a positive number up to 1000000") },
                "processes" => limits with { Processes = PositiveWhole(p.Value, where) },
                "output_kb" => limits with { OutputKb = PositiveWhole(p.Value, where) },
                _ => throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: memory_mb, cpu, processes, output_kb)"),
            };
        }
        return limits;
    }

    private static JsonElement Object(JsonElement e, string at) =>
        e.ValueKind == JsonValueKind.Object ? e : throw new InvalidInputException(at, "expected an object");

    private static string String(JsonElement e, string at) =>
        e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new InvalidInputException(at, "expected a string");

    private static IReadOnlyList<string> Strings(JsonElement e, string at) =>
        e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
            ? e.EnumerateArray().Select(x => x.GetString()!).ToArray()
            : throw new InvalidInputException(at, "expected an array of strings");

    private static double Positive(JsonElement e, string at) =>
        e.ValueKind == JsonValueKind.Number && e.GetDouble() > 0 ? e.GetDouble() : throw new InvalidInputException(at, "expected a positive number");

    private static int PositiveWhole(JsonElement e, string at) =>
        JsonWhole.TryRead(e, out var n, out _) && n > 0 ? n : throw new InvalidInputException(at, $"expected a positive whole number up to {int.MaxValue}");

    /// <summary>A positive number of seconds that a timer can wait (<see cref="Gantry.Time.Timers.Longest"/>).</summary>
    private static TimeSpan Seconds(JsonElement e, string at) =>
        e.ValueKind == JsonValueKind.Number && e.GetDouble() is var s && s > 0 && s <= Gantry.Time.Timers.Longest.TotalSeconds
            ? TimeSpan.FromSeconds(s)
            : throw new InvalidInputException(at, $"expected a positive number of seconds, at most {Gantry.Time.Timers.Longest.TotalSeconds:0} ({Gantry.Time.Timers.Longest.TotalDays:0} days)");
}
