using Gantry.Jobs;
using Gantry.Storage;
using Microsoft.AspNetCore.Http;

namespace Gantry.Server.Api;

/// <summary>
/// Turns Gantry's errors into RFC 9457 problem details, naming the offending field where there is
/// one. The one place that maps an error to a status code; no response ever carries a stack trace.
/// </summary>
internal static class ApiProblems
{
    public static IResult From(Exception ex) => ex switch
    {
        InvalidInputException e => Problem(StatusCodes.Status400BadRequest, "Invalid input", e.Message, e.Field),
        JobNotFoundException e => Problem(StatusCodes.Status404NotFound, "No such job", e.Message),
        Gantry.Workflows.WorkflowNotFoundException e => Problem(StatusCodes.Status404NotFound, "No such workflow", e.Message),
        WorkerNotFoundException e => Problem(StatusCodes.Status404NotFound, "No such worker", e.Message),
        ScheduleNotFoundException e => Problem(StatusCodes.Status404NotFound, "No such schedule", e.Message),
        Gantry.Flow.QueueNotFoundException e => Problem(StatusCodes.Status404NotFound, "No such queue", e.Message, "name"),
        Gantry.Flow.QueueNotPerKeyException e => Problem(StatusCodes.Status409Conflict, "Not a per-key queue", e.Message, "name"),
        IllegalTransitionException e => Problem(StatusCodes.Status409Conflict, "Not allowed in this state", e.Message),
        RequestTooLargeException e => Problem(StatusCodes.Status413PayloadTooLarge, "Request too large", e.Message),
        StoreUnavailableException e => Problem(StatusCodes.Status503ServiceUnavailable, "Store unavailable", e.Message),
        Gantry.Storage.CoordinatorRefusedException e => Problem(StatusCodes.Status400BadRequest, "Refused by the store", e.Message),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            Problem(StatusCodes.Status413PayloadTooLarge, "Request too large", "the request body is over the limit"),
        BadHttpRequestException e => Problem(e.StatusCode, "Bad request", e.Message),
        _ => Problem(StatusCodes.Status500InternalServerError, "Internal error", "an unexpected error occurred; it has been logged"),
    };

    public static IResult Problem(int status, string title, string detail, string? field = null) =>
        TypedResults.Problem(detail, statusCode: status, title: title,
            extensions: string.IsNullOrEmpty(field) ? null : new Dictionary<string, object?> { ["field"] = field });

    /// <summary>An endpoint filter: every Gantry error leaves as problem details.</summary>
    public static async ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is GantryException or BadHttpRequestException)
        {
            return From(ex);
        }
    }
}
