using System.Text.Json.Serialization;

namespace Gantry.Bench;

/// <summary>
/// The benchmarks' results as <c>gantry bench … --json</c> prints them (snake_case, indented, nulls left out, as every
/// <c>--json</c> of the gantry command), source-generated: the Native AOT gantry reads no type by reflection.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BenchResult))]
[JsonSerializable(typeof(ProcessBenchResult))]
[JsonSerializable(typeof(HttpBenchResult))]
[JsonSerializable(typeof(IpcBenchResult))]
[JsonSerializable(typeof(NodeBenchResult))]
[JsonSerializable(typeof(WorkflowBenchResult))]
[JsonSerializable(typeof(IdleBenchResult))]
[JsonSerializable(typeof(MemoryBenchResult))]
[JsonSerializable(typeof(PruneBenchResult))]
[JsonSerializable(typeof(StatsBenchResult))]
[JsonSerializable(typeof(LoadBenchResult))]
[JsonSerializable(typeof(NodeSpawnResult))]
[JsonSerializable(typeof(DashboardBenchResult))]
public sealed partial class BenchJson : JsonSerializerContext;

/// <summary>The bench handlers' payloads, read as they come (a <see cref="System.Text.Json.JsonElement"/>).</summary>
[JsonSerializable(typeof(System.Text.Json.JsonElement))]
internal sealed partial class BenchPayloadJson : JsonSerializerContext;
