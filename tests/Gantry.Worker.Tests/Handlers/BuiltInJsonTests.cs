using System.Text.Json;
using Gantry.Serialization;
using Gantry.Testing;
using Gantry.Worker.Handlers;
using Gantry.Worker.Handlers.BuiltIn;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Gantry.Worker.Tests.Handlers;

/// <summary>
/// The built-in handlers read payloads and write results with source-generated JSON: the same names, the same
/// case-insensitive reading and the same refusals as reflection over <see cref="GantryPayloadJson"/>.
/// </summary>
public sealed class BuiltInJsonTests
{
    private static async Task<string?> RunAsync(string type, string payload)
    {
        using var provider = new ServiceCollection().AddGantryBuiltInHandlers().BuildServiceProvider();
        var registry = provider.GetRequiredService<HandlerRegistry>();
        Assert.True(registry.TryGet(type, out var registration));
        using var context = HandlerTestContext.FromJson(payload);
        return await registration.Invoke(provider, context, GantryPayloadJson.Default);
    }

    [Fact]
    public async Task Sleep_SnakeCasePayload_ResultAsReflectionWritesIt()
    {
        var result = await RunAsync(BuiltInHandlers.Sleep, """{"MS":1}""");
        Assert.Equal(JsonSerializer.Serialize(new SleepHandler.Result(1), GantryPayloadJson.Default), result);
        Assert.Equal("""{"slept_ms":1}""", result);
    }

    [Fact]
    public async Task Count_ResultWithSnakeCaseNames()
    {
        Assert.Equal("""{"counted_to":2,"resumed_from":0}""", await RunAsync(BuiltInHandlers.Count, """{"to":2,"step_ms":0}"""));
    }

    [Fact]
    public async Task Echo_ReturnsThePayload()
    {
        Assert.Equal("""{"hello":"world"}""", await RunAsync(BuiltInHandlers.Echo, """{"hello":"world"}"""));
    }

    [Fact]
    public async Task Fail_PayloadThatDoesNotFit_IsAPayloadMismatch()
    {
        await Assert.ThrowsAsync<PayloadMismatchException>(() => RunAsync(BuiltInHandlers.Fail, """{"times":"many"}"""));
        await Assert.ThrowsAsync<PayloadMismatchException>(() => RunAsync(BuiltInHandlers.Sleep, "null"));
    }
}
