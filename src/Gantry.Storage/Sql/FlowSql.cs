using Gantry.Flow;

namespace Gantry.Storage;

/// <summary>The flow limits' rules as SQL, for claims that read a queue's limits in their own statement.</summary>
internal static class FlowSql
{
    /// <summary><see cref="QueueLimits.ClaimCeiling"/> over an integer <paramref name="concurrency"/> expression.</summary>
    public static string ClaimCeiling(string concurrency) =>
        $"greatest(least({concurrency}, {QueueLimits.WholeClaim}), ({concurrency} + 1) / 2)";

    /// <summary>
    /// A key's turn in a per-key claim's walk: its first claimable jobs up to this many (no more than its free room or
    /// its per-key limit). The walk stops once the turns it read fill the claim's room, so a claim of R jobs reads about
    /// R / 4 keys where keys may run four or more at once (R where they may run one); a larger turn would read fewer
    /// keys but let one key's backlog take more of each claim from the keys after it.
    /// </summary>
    public const int KeyTurn = 4;
}
