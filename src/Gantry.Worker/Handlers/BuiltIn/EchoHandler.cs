using System.Text.Json;
using Gantry.Handlers;

namespace Gantry.Worker.Handlers.BuiltIn;

/// <summary><c>echo</c>: returns its payload.</summary>
internal sealed class EchoHandler : IJobHandler<JsonElement, JsonElement>
{
    public ValueTask<JsonElement> HandleAsync(JsonElement payload, JobContext context) => ValueTask.FromResult(payload.Clone());
}
