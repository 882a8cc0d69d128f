using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Handlers.BuiltIn;

/// <summary>Handlers every Gantry process serves, for trying Gantry and for benchmarks.</summary>
public static class BuiltInHandlers
{
    /// <summary><c>echo</c>: succeeds with its payload as the result.</summary>
    public const string Echo = "echo";
    /// <summary><c>sleep</c>: waits <c>ms</c> milliseconds (cancellable), then succeeds.</summary>
    public const string Sleep = "sleep";
    /// <summary><c>fail</c>: fails its first <c>times</c> attempts (every attempt when not given), then succeeds.</summary>
    public const string Fail = "fail";
    /// <summary><c>noop</c>: succeeds at once with no result.</summary>
    public const string Noop = "noop";
    /// <summary><c>count</c>: counts to <c>to</c>, checkpointing as it goes, and resumes from its checkpoint after a retry.</summary>
    public const string Count = "count";

    /// <summary>Every built-in job type, in order.</summary>
    public static readonly IReadOnlyList<string> Types = [Count, Echo, Fail, Noop, Sleep];

    /// <summary>Registers the built-in handlers, their payloads and results read and written by source-generated JSON.</summary>
    public static IServiceCollection AddGantryBuiltInHandlers(this IServiceCollection services) => services
        .AddGantryHandler<EchoHandler, JsonElement, JsonElement>(Echo, BuiltInJson.Default.JsonElement, BuiltInJson.Default.JsonElement)
        .AddGantryHandler<SleepHandler, SleepHandler.Payload, SleepHandler.Result>(Sleep, BuiltInJson.Default.SleepPayload, BuiltInJson.Default.SleepResult)
        .AddGantryHandler<FailHandler, FailHandler.Payload, FailHandler.Result>(Fail, BuiltInJson.Default.FailPayload, BuiltInJson.Default.FailResult)
        .AddGantryHandler<NoopHandler, JsonElement>(Noop, BuiltInJson.Default.JsonElement)
        .AddGantryHandler<CountHandler, CountHandler.Payload, CountHandler.Result>(Count, BuiltInJson.Default.CountPayload, BuiltInJson.Default.CountResult);
}

/// <summary>The built-in handlers' payloads, results and checkpoint, with the names and reading of <see cref="Gantry.Serialization.GantryPayloadJson"/>.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(SleepHandler.Payload), TypeInfoPropertyName = "SleepPayload")]
[JsonSerializable(typeof(SleepHandler.Result), TypeInfoPropertyName = "SleepResult")]
[JsonSerializable(typeof(FailHandler.Payload), TypeInfoPropertyName = "FailPayload")]
[JsonSerializable(typeof(FailHandler.Result), TypeInfoPropertyName = "FailResult")]
[JsonSerializable(typeof(CountHandler.Payload), TypeInfoPropertyName = "CountPayload")]
[JsonSerializable(typeof(CountHandler.Result), TypeInfoPropertyName = "CountResult")]
[JsonSerializable(typeof(CountHandler.State), TypeInfoPropertyName = "CountState")]
internal sealed partial class BuiltInJson : JsonSerializerContext;
