namespace Gantry;

/// <summary>
/// Base of every error Gantry reports about a user's request (bad input, unknown id, illegal
/// transition, unreachable store). Its message is one line meant for a person; surfaces print it
/// without a stack trace.
/// </summary>
public class GantryException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Input that fails validation. <see cref="Where"/> names the field or position in the message;
/// <see cref="Field"/> is the field an API answer names, where it is more precise (an unknown field by its name).</summary>
public sealed class InvalidInputException(string where, string problem, string? field = null)
    : GantryException(string.IsNullOrEmpty(where) ? problem : $"{where}: {problem}")
{
    /// <summary>Where the input is wrong, as the message names it: a flag, a field, a position; empty when the message says it all.</summary>
    public string Where { get; } = where;
    /// <summary>The field an API answer names: <see cref="Where"/>, or the more precise field given (an unknown field by its name).</summary>
    public string Field { get; } = string.IsNullOrEmpty(field) ? where : field;
    /// <summary>What is wrong, without <see cref="Where"/>.</summary>
    public string Problem { get; } = problem;
}

/// <summary>No job has the given id.</summary>
public sealed class JobNotFoundException(string id) : GantryException($"no job with id {id}")
{
    /// <summary>The id asked for, as given.</summary>
    public string JobId { get; } = id;
}

/// <summary>The store cannot be used: unreachable, locked, corrupt, not a Gantry store.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : GantryException(message, inner);

/// <summary>No running worker has the given id.</summary>
public sealed class WorkerNotFoundException(string id) : GantryException($"no running worker with id {id}")
{
    /// <summary>The id asked for, as given.</summary>
    public string WorkerId { get; } = id;
}
