using System.Text.Json;
using System.Text.Json.Serialization;
using Gantry.Jobs;
using Gantry.Storage;

using Gantry.Server.Api;

namespace Gantry.Cli.Output;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = Gantry.Protocol.JobLimits.MaxMessageDepth)]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobView[]))]
[JsonSerializable(typeof(AuditEntryView[]))]
[JsonSerializable(typeof(SubmitView))]
[JsonSerializable(typeof(LogLineView[]))]
[JsonSerializable(typeof(SubmitView[]))]
[JsonSerializable(typeof(QueueView[]))]
[JsonSerializable(typeof(QueueKeysView))]
[JsonSerializable(typeof(WorkerView[]))]
[JsonSerializable(typeof(WorkflowView))]
[JsonSerializable(typeof(WorkflowSummaryView[]))]
[JsonSerializable(typeof(WorkflowSubmitView))]
[JsonSerializable(typeof(WorkflowCancelView))]
[JsonSerializable(typeof(Gantry.Server.Api.ScheduleView))]
[JsonSerializable(typeof(Gantry.Server.Api.ScheduleView[]))]
[JsonSerializable(typeof(Gantry.Server.Api.ScheduleTriggerView))]
[JsonSerializable(typeof(Gantry.Server.Api.QueueRetentionView[]))]
[JsonSerializable(typeof(Commands.ConfigShowView))]
internal sealed partial class CliJson : JsonSerializerContext;
