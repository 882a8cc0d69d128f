using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Gantry.Handlers;
using Gantry.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Handlers;

/// <summary>Runs one job for a handler: resolves it, reads the payload, returns the result as JSON text.</summary>
internal delegate ValueTask<string?> HandlerInvoker(IServiceProvider services, JobContext context, JsonSerializerOptions json);

/// <summary>A registered job type.</summary>
/// <param name="DefaultTimeout">Timeout for jobs of this type that set none.</param>
/// <param name="CheckpointInterval">How often a checkpointing handler of this type is asked for its state, unless the job says.</param>
/// <param name="Constructor">The parameters of the handler's only public constructor; null when it has several, or is not
/// resolved from services at all (<see cref="UsesServices"/>).</param>
/// <param name="UsesServices">False for a handler the invoker makes itself (a process handler): it needs no scope.</param>
internal sealed record HandlerRegistration(string JobType, Type HandlerType, Type PayloadType, HandlerInvoker Invoke,
    TimeSpan? DefaultTimeout = null, TimeSpan? CheckpointInterval = null, ParameterInfo[]? Constructor = null, bool UsesServices = true);

/// <summary>The job types this process can run, each with its handler. Filled by <c>AddGantryHandler</c>.</summary>
internal sealed class HandlerRegistry
{
    /// <summary>Why registering a handler type needs reflection: its payload and result are the app's own types.</summary>
    public const string ReflectionWarning =
        "Reads the handler's payload and writes its result as JSON by reflection over the app's own types, and builds the " +
        "handler's invoker with MakeGenericMethod. Under Native AOT, the app enables reflection-based JSON " +
        "(JsonSerializerIsReflectionEnabledByDefault) or gives the worker JSON options whose TypeInfoResolver knows those types.";

    /// <summary>What activating a handler type and finding its <c>IJobHandler</c> interfaces needs of it.</summary>
    internal const DynamicallyAccessedMemberTypes HandlerMembers = DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.Interfaces;

    private readonly Dictionary<string, HandlerRegistration> _handlers = new(StringComparer.Ordinal);
    private readonly IServiceCollection? _services;

    public HandlerRegistry()
    {
    }

    /// <param name="services">The registrations the handlers are resolved from: read to tell which handlers need a scope per job.</param>
    internal HandlerRegistry(IServiceCollection services) => _services = services;

    /// <summary>Whether a job of this handler's is run in a DI scope of its own (<see cref="HandlerScopes"/>).</summary>
    internal bool NeedsScope(HandlerRegistration handler) => HandlerScopes.Needed(_services, handler);

    public IReadOnlyCollection<string> JobTypes => _handlers.Keys;

    /// <summary>The job type <paramref name="handlerType"/> is registered for; null when it is registered for none.
    /// Throws when it is registered for several (the caller must then name the type).</summary>
    public string? JobTypeOf(Type handlerType)
    {
        var types = _handlers.Values.Where(h => h.HandlerType == handlerType).Select(h => h.JobType).ToArray();
        return types.Length switch
        {
            0 => null,
            1 => types[0],
            _ => throw new InvalidOperationException($"{handlerType.Name} handles several job types ({string.Join(", ", types.Order(StringComparer.Ordinal))}): name the type"),
        };
    }

    internal bool TryGet(string jobType, out HandlerRegistration registration) => _handlers.TryGetValue(jobType, out registration!);

    [RequiresUnreferencedCode(ReflectionWarning)]
    [RequiresDynamicCode(ReflectionWarning)]
    internal void Add(string jobType, [DynamicallyAccessedMembers(HandlerMembers)] Type handlerType, TimeSpan? checkpointInterval = null)
    {
        if (_handlers.ContainsKey(jobType))
            throw new InvalidOperationException($"job type '{jobType}' already has a handler ({_handlers[jobType].HandlerType.Name})");
        _handlers[jobType] = Create(jobType, handlerType) with { CheckpointInterval = checkpointInterval };
    }

    /// <summary>As <see cref="Add(string, Type, TimeSpan?)"/>, with the handler's payload and result types named, so
    /// that the invoker is compiled ahead of time (no MakeGenericMethod: Native AOT runs it).</summary>
    [RequiresUnreferencedCode(ReflectionWarning)]
    [RequiresDynamicCode(ReflectionWarning)]
    internal void Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler, TPayload, TResult>(string jobType, TimeSpan? checkpointInterval = null)
        where THandler : IJobHandler<TPayload, TResult>
    {
        if (_handlers.ContainsKey(jobType))
            throw new InvalidOperationException($"job type '{jobType}' already has a handler ({_handlers[jobType].HandlerType.Name})");
        _handlers[jobType] = new HandlerRegistration(jobType, typeof(THandler), typeof(TPayload), InvokeWithResult<THandler, TPayload, TResult>,
            CheckpointInterval: checkpointInterval, Constructor: HandlerScopes.ConstructorOf(typeof(THandler)));
    }

    /// <summary>
    /// As <see cref="Add{THandler, TPayload, TResult}(string, TimeSpan?)"/>, the payload read and the result written with the given type
    /// information (System.Text.Json source generation): no reflection at all, trimming- and Native AOT-safe.
    /// </summary>
    internal void Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler, TPayload, TResult>(string jobType,
        JsonTypeInfo<TPayload> payload, JsonTypeInfo<TResult> result, TimeSpan? checkpointInterval = null)
        where THandler : IJobHandler<TPayload, TResult>
    {
        if (_handlers.ContainsKey(jobType))
            throw new InvalidOperationException($"job type '{jobType}' already has a handler ({_handlers[jobType].HandlerType.Name})");
        _handlers[jobType] = new HandlerRegistration(jobType, typeof(THandler), typeof(TPayload), async (services, context, _) =>
        {
            var handler = services.GetRequiredService<THandler>();
            if (handler is ICheckpointSource source && context is Execution.WorkerJobContext running) running.UseCheckpointSource(source);
            var value = await handler.HandleAsync(ReadPayload(context, payload), context).ConfigureAwait(false);
            return value is null ? null : JsonSerializer.Serialize(value, result);
        }, CheckpointInterval: checkpointInterval, Constructor: HandlerScopes.ConstructorOf(typeof(THandler)));
    }

    /// <summary>As <see cref="Add{THandler, TPayload, TResult}(string, JsonTypeInfo{TPayload}, JsonTypeInfo{TResult}, TimeSpan?)"/>,
    /// for a handler that returns no result.</summary>
    internal void Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler, TPayload>(string jobType,
        JsonTypeInfo<TPayload> payload, TimeSpan? checkpointInterval = null)
        where THandler : IJobHandler<TPayload>
    {
        if (_handlers.ContainsKey(jobType))
            throw new InvalidOperationException($"job type '{jobType}' already has a handler ({_handlers[jobType].HandlerType.Name})");
        _handlers[jobType] = new HandlerRegistration(jobType, typeof(THandler), typeof(TPayload), async (services, context, _) =>
        {
            var handler = services.GetRequiredService<THandler>();
            if (handler is ICheckpointSource source && context is Execution.WorkerJobContext running) running.UseCheckpointSource(source);
            await handler.HandleAsync(ReadPayload(context, payload), context).ConfigureAwait(false);
            return null;
        }, CheckpointInterval: checkpointInterval, Constructor: HandlerScopes.ConstructorOf(typeof(THandler)));
    }

    /// <summary>As <see cref="Add{THandler, TPayload, TResult}(string, TimeSpan?)"/>, for a handler that returns no result.</summary>
    [RequiresUnreferencedCode(ReflectionWarning)]
    [RequiresDynamicCode(ReflectionWarning)]
    internal void Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler, TPayload>(string jobType, TimeSpan? checkpointInterval = null)
        where THandler : IJobHandler<TPayload>
    {
        if (_handlers.ContainsKey(jobType))
            throw new InvalidOperationException($"job type '{jobType}' already has a handler ({_handlers[jobType].HandlerType.Name})");
        _handlers[jobType] = new HandlerRegistration(jobType, typeof(THandler), typeof(TPayload), InvokeWithoutResult<THandler, TPayload>,
            CheckpointInterval: checkpointInterval, Constructor: HandlerScopes.ConstructorOf(typeof(THandler)));
    }

    /// <summary>Binds <paramref name="jobType"/> to a command (see <see cref="Process.ProcessJobRunner"/>).</summary>
    internal void AddProcess(string jobType, Process.ProcessHandlerSpec spec)
    {
        if (_handlers.ContainsKey(jobType))
            throw new InvalidOperationException($"job type '{jobType}' already has a handler ({_handlers[jobType].HandlerType.Name})");
        var runner = new Process.ProcessJobRunner(jobType, spec, Isolation.SandboxFactory.Current);
        _handlers[jobType] = new HandlerRegistration(jobType, typeof(Process.ProcessJobRunner), typeof(JsonElement),
            (_, context, _) => runner.RunAsync(context, context.CancellationToken), spec.Timeout, UsesServices: false);
    }

    /// <summary>True when some job type runs as a process (isolation then matters at start-up).</summary>
    public bool HasProcessHandlers => _handlers.Values.Any(h => h.HandlerType == typeof(Process.ProcessJobRunner));

    [RequiresUnreferencedCode(ReflectionWarning)]
    [RequiresDynamicCode(ReflectionWarning)]
    private static HandlerRegistration Create(string jobType, [DynamicallyAccessedMembers(HandlerMembers)] Type handlerType)
    {
        foreach (var iface in handlerType.GetInterfaces().Where(i => i.IsGenericType))
        {
            var definition = iface.GetGenericTypeDefinition();
            var args = iface.GetGenericArguments();
            MethodInfo? method = null;
            if (definition == typeof(IJobHandler<,>))
                method = typeof(HandlerRegistry).GetMethod(nameof(InvokeWithResult), BindingFlags.NonPublic | BindingFlags.Static)!
                    .MakeGenericMethod(handlerType, args[0], args[1]);
            else if (definition == typeof(IJobHandler<>))
                method = typeof(HandlerRegistry).GetMethod(nameof(InvokeWithoutResult), BindingFlags.NonPublic | BindingFlags.Static)!
                    .MakeGenericMethod(handlerType, args[0]);
            if (method is not null)
                return new HandlerRegistration(jobType, handlerType, args[0], method.CreateDelegate<HandlerInvoker>(), Constructor: HandlerScopes.ConstructorOf(handlerType));
        }
        throw new InvalidOperationException($"{handlerType.Name} implements neither IJobHandler<TPayload> nor IJobHandler<TPayload, TResult>");
    }

    [RequiresUnreferencedCode(ReflectionWarning)]
    [RequiresDynamicCode(ReflectionWarning)]
    private static async ValueTask<string?> InvokeWithResult<THandler, TPayload, TResult>(IServiceProvider services, JobContext context, JsonSerializerOptions json)
        where THandler : IJobHandler<TPayload, TResult>
    {
        var handler = services.GetRequiredService<THandler>();
        if (handler is ICheckpointSource source && context is Execution.WorkerJobContext running) running.UseCheckpointSource(source);
        var result = await handler.HandleAsync(ReadPayload<TPayload>(context, json), context).ConfigureAwait(false);
        return result is null ? null : JsonSerializer.Serialize(result, json);
    }

    [RequiresUnreferencedCode(ReflectionWarning)]
    [RequiresDynamicCode(ReflectionWarning)]
    private static async ValueTask<string?> InvokeWithoutResult<THandler, TPayload>(IServiceProvider services, JobContext context, JsonSerializerOptions json)
        where THandler : IJobHandler<TPayload>
    {
        var handler = services.GetRequiredService<THandler>();
        if (handler is ICheckpointSource source && context is Execution.WorkerJobContext running) running.UseCheckpointSource(source);
        await handler.HandleAsync(ReadPayload<TPayload>(context, json), context).ConfigureAwait(false);
        return null;
    }

    /// <summary>The payload as the handler's type; <see cref="PayloadMismatchException"/> when it does not fit.</summary>
    [RequiresUnreferencedCode(ReflectionWarning)]
    [RequiresDynamicCode(ReflectionWarning)]
    internal static TPayload ReadPayload<TPayload>(JobContext context, JsonSerializerOptions json)
    {
        // Spelled out rather than through a shared reader taking a lambda: its closure would be made on every call.
        if (typeof(TPayload) == typeof(JsonElement)) return (TPayload)(object)context.Payload;
        try
        {
            return context.Payload.Deserialize<TPayload>(json) ?? throw PayloadIsNull<TPayload>();
        }
        catch (JsonException ex)
        {
            throw PayloadDoesNotFit<TPayload>(ex);
        }
    }

    /// <summary>The payload read with <paramref name="typeInfo"/>; <see cref="PayloadMismatchException"/> when it does not fit.</summary>
    internal static TPayload ReadPayload<TPayload>(JobContext context, JsonTypeInfo<TPayload> typeInfo)
    {
        if (typeof(TPayload) == typeof(JsonElement)) return (TPayload)(object)context.Payload;
        try
        {
            return context.Payload.Deserialize(typeInfo) ?? throw PayloadIsNull<TPayload>();
        }
        catch (JsonException ex)
        {
            throw PayloadDoesNotFit<TPayload>(ex);
        }
    }

    private static PayloadMismatchException PayloadIsNull<TPayload>() => new($"the payload is null but {typeof(TPayload).Name} is required");

    private static PayloadMismatchException PayloadDoesNotFit<TPayload>(JsonException ex) => new($"the payload does not fit {typeof(TPayload).Name}: {ex.Message}");
}

/// <summary>The payload cannot be read as the handler's payload type; retrying cannot help, so the job is dead at once.</summary>
internal sealed class PayloadMismatchException(string message) : Exception(message);

/// <summary>What a handler's exception asks of the job: whether another attempt may help, and after what delay.</summary>
internal static class HandlerFailure
{
    /// <summary>
    /// A <see cref="JobFailedException"/> says it itself (<c>retry: false</c>, <c>retryAfter</c>); a payload that does not fit
    /// never will; any other exception is retried with the job's backoff. <see cref="RetryPolicy"/> decides the rest.
    /// </summary>
    public static (bool Retryable, TimeSpan? RetryAfter) Of(Exception ex) => ex switch
    {
        JobFailedException failed => (failed.Retry, failed.RetryAfter),
        PayloadMismatchException => (false, null),
        _ => (true, null),
    };
}
