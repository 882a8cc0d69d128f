using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Gantry.Server.Api;

/// <summary>
/// Every type the API reads or writes as JSON, its OpenAPI document describes, or the overview's event stream sends,
/// with metadata made at build time: the API's JSON options (<see cref="GantryApiServices"/>) resolve types only
/// through this context and the worker protocol's (<see cref="Gantry.Protocol.Wire.WireJson"/>), never by reflection,
/// so that a Native AOT build answers as the JIT one does and a type missing here fails every build's tests alike. Names
/// and null handling come from the API's options at run time (snake_case, nulls left out); the values below only keep
/// the context's own default instance alike.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    GenerationMode = JsonSourceGenerationMode.Metadata, MaxDepth = Gantry.Protocol.JobLimits.MaxMessageDepth)]
// Jobs.
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobPage))]
[JsonSerializable(typeof(SubmitView))]
[JsonSerializable(typeof(SubmitView[]))]
[JsonSerializable(typeof(CancelView))]
[JsonSerializable(typeof(LogLineView[]))]
[JsonSerializable(typeof(JobBulkBody))]
[JsonSerializable(typeof(JobBulkView))]
[JsonSerializable(typeof(JobDocument))]
// Queues, workers, the overview and the audit log.
[JsonSerializable(typeof(QueueView[]))]
[JsonSerializable(typeof(QueueKeysView))]
[JsonSerializable(typeof(QueuesAndWorkersEndpoints.QueueLimitsBody))]
[JsonSerializable(typeof(WorkerView[]))]
[JsonSerializable(typeof(WorkerCommandView))]
[JsonSerializable(typeof(OverviewView))]
[JsonSerializable(typeof(AuditPage))]
// Workflows.
[JsonSerializable(typeof(WorkflowDocument))]
[JsonSerializable(typeof(WorkflowView))]
[JsonSerializable(typeof(WorkflowPage))]
[JsonSerializable(typeof(WorkflowSubmitView))]
[JsonSerializable(typeof(WorkflowCancelView))]
// Schedules and retention.
[JsonSerializable(typeof(ScheduleDocumentBody))]
[JsonSerializable(typeof(ScheduleView))]
[JsonSerializable(typeof(ScheduleView[]))]
[JsonSerializable(typeof(ScheduleSaveView))]
[JsonSerializable(typeof(ScheduleTriggerView))]
[JsonSerializable(typeof(QueueRetentionBody))]
[JsonSerializable(typeof(QueueRetentionView))]
[JsonSerializable(typeof(QueueRetentionView[]))]
// Health, errors, and what the OpenAPI document names besides (text answers, query values).
[JsonSerializable(typeof(HealthView))]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(HttpValidationProblemDetails))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(double))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;

/// <summary>
/// The dashboard's session answer (<c>/dashboard/session</c>): snake_case names with nulls written, as the page reads
/// them (<c>"name": null</c> when no one is signed in).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(Microsoft.Extensions.DependencyInjection.GantryDashboard.SessionView))]
internal sealed partial class DashboardJsonContext : JsonSerializerContext;
