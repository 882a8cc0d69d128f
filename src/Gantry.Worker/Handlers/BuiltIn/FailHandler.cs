using Gantry.Handlers;

namespace Gantry.Worker.Handlers.BuiltIn;

/// <summary><c>fail</c> <c>{"times":n}</c>: fails the first n attempts, then succeeds; without <c>times</c> it always fails.</summary>
internal sealed class FailHandler : IJobHandler<FailHandler.Payload, FailHandler.Result>
{
    public sealed record Payload(int? Times = null, string? Message = null);
    public sealed record Result(int SucceededOnAttempt);

    public ValueTask<Result> HandleAsync(Payload payload, JobContext context)
    {
        if (payload.Times is null || context.Attempt <= payload.Times)
            throw new DeliberateFailureException(payload.Message ?? $"failing on purpose (attempt {context.Attempt}{(payload.Times is { } n ? $" of the first {n}" : "")})");
        return ValueTask.FromResult(new Result(context.Attempt));
    }
}

/// <summary>The failure the <c>fail</c> handler raises.</summary>
internal sealed class DeliberateFailureException(string message) : Exception(message);
