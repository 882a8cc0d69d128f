using System.Text.Json;
using Gantry.Protocol;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Handlers.Process;

namespace Gantry.Cli.Hosting;

/// <summary>
/// The configuration file (<c>gantry.json</c>, or <c>--config</c>): for now, job types bound to
/// commands. Read strictly: an unknown field is an error naming where it is, so a typo never
/// silently drops a limit.
/// </summary>
internal sealed record GantryConfig
{
    public const string DefaultFile = "gantry.json";

    public IReadOnlyDictionary<string, ProcessHandlerSpec> Handlers { get; init; } = new Dictionary<string, ProcessHandlerSpec>();

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
            doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException(name, $"malformed JSON (line {(ex.LineNumber ?? 0) + 1}, column {(ex.BytePositionInLine ?? 0) + 1})");
        }
        using (doc)
        {
            var root = Object(doc.RootElement, name);
            var handlers = new Dictionary<string, ProcessHandlerSpec>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
            {
                switch (p.Name)
                {
                    case "handlers":
                        foreach (var h in Object(p.Value, $"{name}: handlers").EnumerateObject())
                            handlers[h.Name] = Handler(h.Name, h.Value, $"{name}: handlers.{h.Name}");
                        break;
                    default:
                        throw new InvalidInputException(name, $"unknown field '{p.Name}' (known fields: handlers)");
                }
            }
            return new GantryConfig { Handlers = handlers, Source = Path.GetFullPath(path) };
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
                "timeout_seconds" => spec with { Timeout = TimeSpan.FromSeconds(Positive(p.Value, where)) },
                "limits" => spec with { Limits = Limits(p.Value, where) },
                _ => throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: command, working_directory, env, timeout_seconds, limits)"),
            };
        }
        if (command is null || command.Count == 0 || string.IsNullOrWhiteSpace(command[0]))
            throw new InvalidInputException($"{at}.command", "is required: the program and its arguments, e.g. [\"python3\", \"worker.py\"]");
        return spec;
    }

    private static ProcessLimits Limits(JsonElement e, string at)
    {
        var limits = new ProcessLimits();
        foreach (var p in Object(e, at).EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            limits = p.Name switch
            {
                "memory_mb" => limits with { MemoryMb = (int)Positive(p.Value, where) },
                "cpu" => limits with { Cpu = Positive(p.Value, where) },
                "processes" => limits with { Processes = (int)Positive(p.Value, where) },
                "output_kb" => limits with { OutputKb = (int)Positive(p.Value, where) },
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
}
