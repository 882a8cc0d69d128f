using Gantry.Flow;

namespace Gantry.Storage;

/// <summary>The flow limits' rules as SQL, for claims that read a queue's limits in their own statement.</summary>
internal static class FlowSql
{
    /// <summary><see cref="QueueLimits.ClaimCeiling"/> over an integer <paramref name="concurrency"/> expression.</summary>
    public static string ClaimCeiling(string concurrency) =>
        $"greatest(least({concurrency}, {QueueLimits.WholeClaim}), ({concurrency} + 1) / 2)";
}
