namespace Gantry.Jobs;

/// <summary>Job ids are UUIDv7: unique without coordination and ordered by creation time.</summary>
public static class JobIds
{
    public static Guid New(TimeProvider? time = null) =>
        Guid.CreateVersion7(time?.GetUtcNow() ?? DateTimeOffset.UtcNow);

    /// <summary>Parses an id given by a person; the error names the bad text.</summary>
    public static Guid Parse(string text, string where = "id") =>
        Guid.TryParse(text?.Trim(), out var id)
            ? id
            : throw new InvalidInputException(where, $"'{text}' is not a job id (expected a UUID such as 0193a5b2-7c1e-7d4a-9f00-1a2b3c4d5e6f)");
}
