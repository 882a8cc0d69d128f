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

    public static IServiceCollection AddGantryBuiltInHandlers(this IServiceCollection services) => services
        .AddGantryHandler<EchoHandler>(Echo)
        .AddGantryHandler<SleepHandler>(Sleep)
        .AddGantryHandler<FailHandler>(Fail)
        .AddGantryHandler<NoopHandler>(Noop)
        .AddGantryHandler<CountHandler>(Count);
}
