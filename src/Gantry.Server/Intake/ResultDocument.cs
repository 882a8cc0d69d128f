using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Jobs;
using Gantry.Server.Api;

namespace Gantry.Server.Intake;

/// <summary>What <c>results/&lt;job id&gt;.json</c> holds: the job as the API shows it, with every failed attempt's error.</summary>
internal static class ResultDocument
{
    public static string Write(JobRecord job) => JsonSerializer.Serialize(JobView.From(job, withErrors: true), ResultJson.Default.JobView);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = Gantry.Protocol.JobLimits.MaxMessageDepth)]
[JsonSerializable(typeof(JobView))]
internal sealed partial class ResultJson : JsonSerializerContext;
