using Gantry.Workflows;

namespace Gantry.Storage;

/// <summary>
/// Lists workflows for a store that reads them a page at a time (<see cref="WorkflowSql.List"/>):
/// a filter on the derived state reads pages newest first until it has found enough, so the work
/// grows with how far back the matches lie, not with every workflow ever stored.
/// </summary>
internal static class WorkflowPages
{
    /// <summary>Workflows read per page when filtering: enough that a sparse state takes few round trips.</summary>
    private const int FilterPage = 500;

    /// <param name="page">Reads up to <c>limit</c> workflows older than <c>before</c> (all when null), newest first.</param>
    public static async Task<IReadOnlyList<WorkflowSummary>> ListAsync(WorkflowListParams p,
        Func<Guid?, int, CancellationToken, Task<IReadOnlyList<WorkflowSummary>>> page, CancellationToken ct)
    {
        if (p.State is not { } state) return await page(p.Before, p.Limit, ct).ConfigureAwait(false);
        var found = new List<WorkflowSummary>();
        var before = p.Before;
        var size = Math.Max(p.Limit, FilterPage);
        while (true)
        {
            var rows = await page(before, size, ct).ConfigureAwait(false);
            foreach (var row in rows)
            {
                if (row.State != state) continue;
                found.Add(row);
                if (found.Count == p.Limit) return found;
            }
            if (rows.Count < size) return found;
            before = rows[^1].Id;
        }
    }
}
