using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Serialization;
using Gantry.Worker.Handlers;

namespace Gantry.Testing;

/// <summary>How an attempt ended, as the worker would report it.</summary>
public enum HandlerOutcome
{
    /// <summary>The handler returned: the job succeeded.</summary>
    Succeeded,
    /// <summary>The handler threw and the job would be retried at <see cref="HandlerTestResult{TResult}.RetryAt"/>.</summary>
    Retried,
    /// <summary>The handler threw and the job would be dead: failed for good, or out of attempts.</summary>
    Dead,
    /// <summary>The handler stopped on its token after <see cref="HandlerTestContext.Cancel"/>.</summary>
    Cancelled,
}

/// <summary>What one attempt did: its outcome, its result (as the value and as the JSON the worker would store) or its error.</summary>
/// <param name="Outcome">How the attempt ended, as the worker would report it.</param>
/// <param name="Result">The handler's result when it succeeded; default otherwise, and for a handler without a result.</param>
/// <param name="ResultJson">The result as the JSON the worker would store (snake_case); null when there is none.</param>
/// <param name="Error">The exception the handler threw; null when it succeeded.</param>
/// <param name="RetryAt">When the job would be attempted again (<see cref="HandlerOutcome.Retried"/> only); null otherwise.</param>
public sealed record HandlerTestResult<TResult>(HandlerOutcome Outcome, TResult? Result, string? ResultJson, Exception? Error, DateTimeOffset? RetryAt);

/// <summary>
/// Runs a handler once against a <see cref="HandlerTestContext"/>, reading the payload and deciding the outcome with the
/// worker's own rules: a payload that does not fit, or a <see cref="JobFailedException"/> with <c>retry: false</c>,
/// is dead at once; a <c>retryAfter</c> sets the next attempt's time; any other exception is retried with the job's
/// backoff while attempts are left.
/// </summary>
public static class HandlerTest
{
    /// <summary>Runs a handler with a result once: the payload is read from <paramref name="context"/> as the worker reads it.</summary>
    /// <param name="time">The clock a retry's time is computed from; the system clock when null.</param>
    /// <returns>The outcome; the handler's exceptions are caught and reported in it, never thrown.</returns>
    public static Task<HandlerTestResult<TResult>> RunAsync<TPayload, TResult>(IJobHandler<TPayload, TResult> handler, HandlerTestContext context, TimeProvider? time = null) =>
        RunCoreAsync<TResult>(async () =>
        {
            var result = await handler.HandleAsync(HandlerRegistry.ReadPayload<TPayload>(context, GantryPayloadJson.Default), context).ConfigureAwait(false);
            return (result, result is null ? null : JsonSerializer.Serialize(result, GantryPayloadJson.Default));
        }, context, time);

    /// <summary>Runs a handler without a result once; its <see cref="HandlerTestResult{TResult}.Result"/> is always null.</summary>
    /// <param name="time">The clock a retry's time is computed from; the system clock when null.</param>
    /// <returns>The outcome; the handler's exceptions are caught and reported in it, never thrown.</returns>
    public static async Task<HandlerTestResult<object>> RunAsync<TPayload>(IJobHandler<TPayload> handler, HandlerTestContext context, TimeProvider? time = null) =>
        await RunCoreAsync<object>(async () =>
        {
            await handler.HandleAsync(HandlerRegistry.ReadPayload<TPayload>(context, GantryPayloadJson.Default), context).ConfigureAwait(false);
            return (null, null);
        }, context, time).ConfigureAwait(false);

    private static async Task<HandlerTestResult<TResult>> RunCoreAsync<TResult>(Func<Task<(TResult? Result, string? Json)>> run, HandlerTestContext context, TimeProvider? time)
    {
        try
        {
            var (result, json) = await run().ConfigureAwait(false);
            return new HandlerTestResult<TResult>(HandlerOutcome.Succeeded, result, json, null, null);
        }
        catch (Exception ex) when (context.CancelReason is CancelReason.UserCancelled && ex is OperationCanceledException)
        {
            return new HandlerTestResult<TResult>(HandlerOutcome.Cancelled, default, null, ex, null);
        }
        catch (Exception ex)
        {
            var (retryable, retryAfter) = HandlerFailure.Of(ex);
            var (next, runAt) = RetryPolicy.AfterFailure(context.Attempt, context.MaxAttempts, context.Backoff,
                (time ?? TimeProvider.System).GetUtcNow(), Random.Shared, retryable, retryAfter);
            return new HandlerTestResult<TResult>(next == JobState.Dead ? HandlerOutcome.Dead : HandlerOutcome.Retried, default, null, ex, runAt);
        }
    }
}
