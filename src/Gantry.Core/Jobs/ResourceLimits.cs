using System.Globalization;
using System.Text.Json;

namespace Gantry.Jobs;

/// <summary>
/// Resource limits of one attempt's process tree, as a job may set them (<c>"limits"</c> in its
/// document) to tighten those of its type: the same names as a process handler's <c>limits</c> in
/// gantry.json. A job can only tighten: a value wider than its type's is refused at submit where the
/// submitter knows the type's limits (<see cref="Protocol.JobLimits.TypeLimits"/>), and the worker
/// runs the tighter of the two in any case. Null means no limit of the job's own.
/// </summary>
public sealed record ResourceLimits
{
    /// <summary>Memory of the whole process tree, in MB.</summary>
    public int? MemoryMb { get; init; }

    /// <summary>CPU share, in cores (0.5 = half a core).</summary>
    public double? Cpu { get; init; }

    /// <summary>Most processes the tree may hold at once.</summary>
    public int? Processes { get; init; }

    /// <summary>No limit of the job's own.</summary>
    public static readonly ResourceLimits None = new();

    /// <summary>The fields a limits object may hold, for error messages.</summary>
    public const string Fields = "memory_mb, cpu, processes";

    /// <summary>True when no limit is set.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsEmpty => MemoryMb is null && Cpu is null && Processes is null;

    /// <summary>Reads <c>{"memory_mb": 64, "cpu": 0.5, "processes": 16}</c>; an unknown field or a value that is not positive is an error naming it.</summary>
    public static ResourceLimits Read(JsonElement e, string at)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new InvalidInputException(at, $"expected an object ({Fields})");
        var limits = None;
        foreach (var p in e.EnumerateObject())
        {
            var where = $"{at}.{p.Name}";
            limits = p.Name switch
            {
                "memory_mb" => limits with { MemoryMb = Whole(p.Value, where) },
                "cpu" => limits with { Cpu = Positive(p.Value, where) },
                "processes" => limits with { Processes = Whole(p.Value, where) },
                _ => throw new InvalidInputException(at, $"unknown field '{p.Name}' (known fields: {Fields})", where),
            };
        }
        return limits;
    }

    /// <summary>The limits that bind when both apply: the tighter of each.</summary>
    public ResourceLimits Within(ResourceLimits other) => new()
    {
        MemoryMb = Min(MemoryMb, other.MemoryMb),
        Cpu = MinOf(Cpu, other.Cpu),
        Processes = Min(Processes, other.Processes),
    };

    /// <summary>Refuses a value wider than <paramref name="type"/>'s (a type without a limit allows any).</summary>
    public void CheckNotWider(ResourceLimits type, string typeName, string at)
    {
        static string Wider(string field, string job, string of) => $"{job} is wider than job type '{of}' allows ({field}); a job may only tighten its type's limits";
        if (MemoryMb > type.MemoryMb)
            throw new InvalidInputException($"{at}.memory_mb", Wider($"memory_mb {type.MemoryMb}", MemoryMb.Value.ToString(CultureInfo.InvariantCulture), typeName));
        if (Cpu > type.Cpu)
            throw new InvalidInputException($"{at}.cpu", Wider($"cpu {type.Cpu.Value.ToString(CultureInfo.InvariantCulture)}", Cpu.Value.ToString(CultureInfo.InvariantCulture), typeName));
        if (Processes > type.Processes)
            throw new InvalidInputException($"{at}.processes", Wider($"processes {type.Processes}", Processes.Value.ToString(CultureInfo.InvariantCulture), typeName));
    }

    /// <summary>The stored and wire form: the document's own object, or null when empty.</summary>
    public string? ToJson()
    {
        if (IsEmpty) return null;
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            WriteFields(w);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Writes the set fields into the object <paramref name="w"/> is in.</summary>
    public void WriteFields(Utf8JsonWriter w)
    {
        if (MemoryMb is { } mb) w.WriteNumber("memory_mb", mb);
        if (Cpu is { } cpu) w.WriteNumber("cpu", cpu);
        if (Processes is { } n) w.WriteNumber("processes", n);
    }

    /// <summary>Reads <see cref="ToJson"/>'s form; null stays null.</summary>
    public static ResourceLimits? FromJson(string? json)
    {
        if (json is null) return null;
        using var doc = JsonDocument.Parse(json);
        return Read(doc.RootElement, "limits");
    }

    private static int? Min(int? a, int? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
    private static double? MinOf(double? a, double? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private static double Positive(JsonElement e, string at) =>
        e.ValueKind == JsonValueKind.Number && e.GetDouble() is > 0 and <= 1e6 ? e.GetDouble() : throw new InvalidInputException(at, "expected a positive number");

    private static int Whole(JsonElement e, string at) =>
        Gantry.Protocol.JsonWhole.TryRead(e, out var v, out _) && v > 0 ? v : throw new InvalidInputException(at, "expected a positive whole number");
}
