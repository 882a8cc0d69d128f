using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Gantry.Serialization;
using Microsoft.Extensions.Logging;

namespace Gantry.Handlers;

/// <summary>
/// Everything a handler gets about the attempt it runs. One object, so handlers can be tested
/// with a context of the test's own making.
/// </summary>
public abstract class JobContext
{
    /// <summary>The job's id, the same in every attempt.</summary>
    public abstract Guid JobId { get; }
    /// <summary>The job's type, as the handler was registered for.</summary>
    public abstract string Type { get; }
    /// <summary>The queue the job was claimed from.</summary>
    public abstract string Queue { get; }
    /// <summary>This attempt's number, 1-based.</summary>
    public abstract int Attempt { get; }
    /// <summary>Most attempts the job gets; when <see cref="Attempt"/> equals it, a failure is final.</summary>
    public abstract int MaxAttempts { get; }
    /// <summary>The job's tags; empty when it has none.</summary>
    public abstract IReadOnlyDictionary<string, string> Tags { get; }
    /// <summary>The payload as raw JSON.</summary>
    public abstract JsonElement Payload { get; }
    /// <summary>Fires when the job is cancelled, times out, or the worker shuts down; see <see cref="CancelReason"/>.</summary>
    public abstract CancellationToken CancellationToken { get; }
    /// <summary>Why <see cref="CancellationToken"/> fired, or <see cref="CancelReason.None"/>.</summary>
    public abstract CancelReason CancelReason { get; }
    /// <summary>A logger whose lines are kept with the job's attempt (<c>jobs logs</c>) as well as written to the worker's logs.</summary>
    public abstract ILogger Logger { get; }

    /// <summary>Reports percent done (0–100) and a message. Cheap to call often: writes are throttled.</summary>
    public abstract ValueTask ReportProgressAsync(double percent, string? message = null);

    /// <summary>The latest checkpoint an earlier attempt saved (after a retry, a lost worker, a drain or a
    /// shutdown); null when the job starts fresh.</summary>
    public abstract ReadOnlyMemory<byte>? Checkpoint { get; }

    /// <summary>The latest checkpoint read as JSON into <typeparamref name="T"/>; default when there is none.</summary>
    [RequiresUnreferencedCode(GantryPayloadJson.ReflectionWarning)]
    [RequiresDynamicCode(GantryPayloadJson.ReflectionWarning)]
    public T? GetCheckpoint<T>() =>
        Checkpoint is { } bytes ? JsonSerializer.Deserialize<T>(bytes.Span, GantryPayloadJson.Default) : default;

    /// <summary>The latest checkpoint read as JSON with <paramref name="typeInfo"/> (trimming- and Native AOT-safe); default when there is none.</summary>
    public T? GetCheckpoint<T>(JsonTypeInfo<T> typeInfo) =>
        Checkpoint is { } bytes ? JsonSerializer.Deserialize(bytes.Span, typeInfo) : default;

    /// <summary>
    /// For a workflow step: the results of the steps it depends on, by step name (a step that returned
    /// nothing gives <see cref="JsonValueKind.Null"/>). Empty for a plain job.
    /// </summary>
    public virtual IReadOnlyDictionary<string, JsonElement> DependencyResults => NoDependencies;

    private static readonly IReadOnlyDictionary<string, JsonElement> NoDependencies = new Dictionary<string, JsonElement>();

    /// <summary>The result of dependency <paramref name="step"/> read as JSON into <typeparamref name="T"/>;
    /// throws <see cref="KeyNotFoundException"/> naming the step when this job does not depend on it.</summary>
    [RequiresUnreferencedCode(GantryPayloadJson.ReflectionWarning)]
    [RequiresDynamicCode(GantryPayloadJson.ReflectionWarning)]
    public T? GetDependencyResult<T>(string step) => DependencyResult(step).Deserialize<T>(GantryPayloadJson.Default);

    /// <summary>The result of dependency <paramref name="step"/> read with <paramref name="typeInfo"/> (trimming- and Native
    /// AOT-safe); throws <see cref="KeyNotFoundException"/> naming the step when this job does not depend on it.</summary>
    public T? GetDependencyResult<T>(string step, JsonTypeInfo<T> typeInfo) => DependencyResult(step).Deserialize(typeInfo);

    private JsonElement DependencyResult(string step) =>
        DependencyResults.TryGetValue(step, out var result)
            ? result
            : throw new KeyNotFoundException($"job {JobId} has no dependency named '{step}' (it has: {string.Join(", ", DependencyResults.Keys)})");

    /// <summary>
    /// Saves where the handler is, so that a later attempt can resume from it: a JSON-serialisable
    /// value, or bytes (<c>byte[]</c>, <c>ReadOnlyMemory&lt;byte&gt;</c>) kept as they are. Completes once
    /// stored. Only this attempt can save: a stale attempt's checkpoint is rejected.
    /// </summary>
    public abstract ValueTask SaveCheckpointAsync(object? state);

    /// <summary>
    /// A checkpoint's bytes: bytes as they are, a <see cref="JsonElement"/> as its text, any other value as JSON
    /// (<see cref="GantryPayloadJson"/>, by reflection over its runtime type: under trimming or Native AOT, pass bytes or a
    /// <see cref="JsonElement"/>, for instance from <c>JsonSerializer.SerializeToUtf8Bytes(value, typeInfo)</c>).
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Bytes and JSON elements are not serialised by reflection; other values are the handler's own, documented above.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Bytes and JSON elements are not serialised by reflection; other values are the handler's own, documented above.")]
    public static byte[] CheckpointBytes(object? state) => state switch
    {
        byte[] b => b,
        ReadOnlyMemory<byte> m => m.ToArray(),
        Memory<byte> m => m.ToArray(),
        JsonElement e => JsonSerializer.SerializeToUtf8Bytes(e, CoreJsonContext.Default.JsonElement),
        _ => JsonSerializer.SerializeToUtf8Bytes(state, GantryPayloadJson.Default),
    };
}

/// <summary>Why a running job was asked to stop.</summary>
public enum CancelReason
{
    /// <summary>The token has not fired.</summary>
    None,
    /// <summary>A user cancelled the job.</summary>
    UserCancelled,
    /// <summary>The job ran past its timeout.</summary>
    Timeout,
    /// <summary>The worker is shutting down; the job will be requeued.</summary>
    Shutdown,
    /// <summary>The worker lost the job's lease; another attempt may already run.</summary>
    LeaseLost,
}
