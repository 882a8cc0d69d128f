using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Gantry.Server.Api;

/// <summary>
/// <see cref="ApiOptions.HidePayloadsFromReaders"/>: an endpoint filter that leaves payloads and results out (null) of
/// the jobs and workflows a read-only caller is given, whichever endpoint gives them. The job event stream asks
/// <see cref="ApiAuthorization.HidesPayloads"/> itself.
/// </summary>
internal static class PayloadHiding
{
    private static readonly JsonElement Hidden = JsonDocument.Parse("null").RootElement.Clone();

    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context).ConfigureAwait(false);
        if (!ApiAuthorization.HidesPayloads(context.HttpContext)) return result;
        return result switch
        {
            Ok<JobView> ok => TypedResults.Ok(Hide(ok.Value!)),
            Ok<JobPage> ok => TypedResults.Ok(ok.Value! with { Jobs = ok.Value!.Jobs.Select(Hide).ToArray() }),
            Ok<WorkflowView> ok => TypedResults.Ok(ok.Value! with { Steps = ok.Value!.Steps.Select(s => s with { Result = null }).ToArray() }),
            _ => result,
        };
    }

    public static JobView Hide(JobView job) => job with { Payload = Hidden, Result = null };
}
