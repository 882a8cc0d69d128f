using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Handlers.BuiltIn;

/// <summary>Handlers every Gantry process serves, for trying Gantry and for benchmarks.</summary>
public static class BuiltInHandlers
{
    public const string Echo = "echo";
    public const string Sleep = "sleep";
    public const string Fail = "fail";
    public const string Noop = "noop";
    public const string Count = "count";

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
