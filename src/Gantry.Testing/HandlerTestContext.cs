using System.Collections.Concurrent;
using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Serialization;
using Microsoft.Extensions.Logging;

namespace Gantry.Testing;

/// <summary>A progress report a handler made.</summary>
/// <param name="Percent">How far the handler said it was, clamped to 0–100.</param>
/// <param name="Message">The message it gave with it, if any.</param>
public sealed record ProgressUpdate(double Percent, string? Message);

/// <summary>A line a handler logged through <see cref="JobContext.Logger"/>.</summary>
/// <param name="Level">The line's level.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception logged with it, if any.</param>
public sealed record LogEntry(LogLevel Level, string Message, Exception? Exception);

/// <summary>
/// A <see cref="JobContext"/> for testing a handler without a store or a worker: give it the job (payload, attempt,
/// an earlier checkpoint, dependency results), call the handler (or <see cref="HandlerTest.RunAsync{TPayload, TResult}"/>),
/// then read what the handler did: <see cref="Progress"/>, <see cref="Checkpoints"/>, <see cref="Logs"/>.
/// <see cref="Cancel"/> fires its token as a worker would.
/// </summary>
public sealed class HandlerTestContext : JobContext, IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly ConcurrentQueue<ProgressUpdate> _progress = new();
    private readonly ConcurrentQueue<byte[]> _checkpoints = new();
    private readonly ConcurrentQueue<LogEntry> _logs = new();
    private int _cancelReason;
    private JsonElement _payload;
    private ReadOnlyMemory<byte>? _checkpoint;
    private IReadOnlyDictionary<string, JsonElement> _dependencies = new Dictionary<string, JsonElement>(StringComparer.Ordinal);

    /// <summary>A context for a job with this payload, attempt 1 of the default attempts, on the <c>default</c> queue.</summary>
    /// <param name="payload">The job's payload: a value written as JSON as an enqueue would (snake_case), or a <see cref="JsonElement"/>.</param>
    public HandlerTestContext(object? payload = null)
    {
        _payload = ToElement(payload ?? new Dictionary<string, object>());
        Logger = new CapturingLogger(_logs);
    }

    /// <summary>A context whose payload is this JSON text.</summary>
    public static HandlerTestContext FromJson(string payloadJson) => new(JsonElements.Parse(payloadJson));

    /// <inheritdoc/>
    public override Guid JobId => Id;

    /// <summary>The job's id (a new one by default).</summary>
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <inheritdoc/>
    public override string Type => JobType;

    /// <summary>The job's type (<c>test</c> by default).</summary>
    public string JobType { get; init; } = "test";

    /// <inheritdoc/>
    public override string Queue => JobQueue;

    /// <summary>The job's queue (<c>default</c> by default).</summary>
    public string JobQueue { get; init; } = NewJob.DefaultQueue;

    /// <inheritdoc/>
    public override int Attempt => AttemptNumber;

    /// <summary>This attempt's number (1 by default): a test of a retry sets 2 or more.</summary>
    public int AttemptNumber { get; init; } = 1;

    /// <inheritdoc/>
    public override int MaxAttempts => AttemptsAllowed;

    /// <summary>The job's attempts (<see cref="NewJob.MaxAttemptsDefault"/> by default).</summary>
    public int AttemptsAllowed { get; init; } = NewJob.MaxAttemptsDefault;

    /// <summary>The job's backoff, which <see cref="HandlerTest"/> uses to say when a failed attempt would be retried.</summary>
    public Backoff Backoff { get; init; } = Backoff.Default;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, string> Tags => JobTags;

    /// <summary>The job's tags (none by default).</summary>
    public IReadOnlyDictionary<string, string> JobTags { get; init; } = NewJob.NoTags;

    /// <inheritdoc/>
    public override JsonElement Payload => _payload;

    /// <inheritdoc/>
    public override ReadOnlyMemory<byte>? Checkpoint => _checkpoint;

    /// <inheritdoc/>
    public override IReadOnlyDictionary<string, JsonElement> DependencyResults => _dependencies;

    /// <inheritdoc/>
    public override CancellationToken CancellationToken => _cts.Token;

    /// <inheritdoc/>
    public override CancelReason CancelReason => (CancelReason)Volatile.Read(ref _cancelReason);

    /// <inheritdoc/>
    public override ILogger Logger { get; }

    /// <summary>Every progress report, in order (unthrottled: a worker would write fewer).</summary>
    public IReadOnlyList<ProgressUpdate> Progress => [.. _progress];

    /// <summary>Every checkpoint saved, in order, as the bytes a worker would store.</summary>
    public IReadOnlyList<byte[]> Checkpoints => [.. _checkpoints];

    /// <summary>Every line logged, in order.</summary>
    public IReadOnlyList<LogEntry> Logs => [.. _logs];

    /// <summary>The last checkpoint saved, read as JSON into <typeparamref name="T"/>; default when none was.</summary>
    public T? LastCheckpoint<T>() =>
        _checkpoints.LastOrDefault() is { } bytes ? JsonSerializer.Deserialize<T>(bytes, GantryPayloadJson.Default) : default;

    /// <summary>Starts the attempt from a checkpoint an earlier attempt saved (a value written as the worker would, or bytes).</summary>
    public HandlerTestContext WithCheckpoint(object state)
    {
        _checkpoint = CheckpointBytes(state);
        return this;
    }

    /// <summary>For a workflow step: the results of the steps it depends on (values written as JSON), by step name.</summary>
    public HandlerTestContext WithDependencyResults(IReadOnlyDictionary<string, object?> results)
    {
        _dependencies = results.ToDictionary(r => r.Key, r => ToElement(r.Value), StringComparer.Ordinal);
        return this;
    }

    /// <inheritdoc/>
    /// <remarks>Recorded in <see cref="Progress"/>, every call.</remarks>
    public override ValueTask ReportProgressAsync(double percent, string? message = null)
    {
        if (double.IsNaN(percent)) throw new ArgumentOutOfRangeException(nameof(percent), "percent must be a number");
        _progress.Enqueue(new ProgressUpdate(Math.Clamp(percent, 0, 100), message));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    /// <remarks>Recorded in <see cref="Checkpoints"/>.</remarks>
    public override ValueTask SaveCheckpointAsync(object? state)
    {
        _checkpoints.Enqueue(CheckpointBytes(state));
        return ValueTask.CompletedTask;
    }

    /// <summary>Fires <see cref="CancellationToken"/> for <paramref name="reason"/>, as a worker does on a cancel, a timeout or a shutdown.</summary>
    public void Cancel(CancelReason reason = CancelReason.UserCancelled)
    {
        if (reason == CancelReason.None) throw new ArgumentOutOfRangeException(nameof(reason), "a cancellation has a reason");
        Interlocked.CompareExchange(ref _cancelReason, (int)reason, (int)CancelReason.None);
        _cts.Cancel();
    }

    /// <summary>Releases the cancellation source behind <see cref="CancellationToken"/>.</summary>
    public void Dispose() => _cts.Dispose();

    private static JsonElement ToElement(object? value) =>
        value is JsonElement element ? element.Clone() : JsonSerializer.SerializeToElement(value, GantryPayloadJson.Default);

    private sealed class CapturingLogger(ConcurrentQueue<LogEntry> logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) logs.Enqueue(new LogEntry(logLevel, formatter(state, exception), exception));
        }
    }
}
