using System.Text.Json;
using Gantry.Handlers;

namespace Gantry.Worker.Handlers.BuiltIn;

/// <summary><c>noop</c>: does nothing; what benchmarks measure the runtime with.</summary>
internal sealed class NoopHandler : IJobHandler<JsonElement>
{
    public ValueTask HandleAsync(JsonElement payload, JobContext context) => ValueTask.CompletedTask;
}
