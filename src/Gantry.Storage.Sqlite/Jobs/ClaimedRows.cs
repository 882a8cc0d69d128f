namespace Gantry.Storage.Sqlite;

/// <summary>
/// The row key of each job this store instance claimed and has not yet seen end: the claim remembers them
/// (<see cref="SqliteClaims"/>), a report forgets them (<see cref="SqliteReports"/>), and a success finds its row
/// by the key instead of through the id index. A report from another process falls back to the id. Touched only under
/// the store's write lock, so not synchronised itself.
/// </summary>
internal sealed class ClaimedRows
{
    /// <summary>Past this many, the rows of reports that never came (a worker that died) are forgotten all at once.</summary>
    private const int Limit = 1_000_000;

    private readonly Dictionary<Guid, Row> _rows = [];

    public readonly record struct Row(long Seq, bool IsStep, string Queue);

    public void Remember(List<(long Seq, ClaimedJob Job, bool IsStep)> claimed)
    {
        if (_rows.Count + claimed.Count > Limit) _rows.Clear();
        foreach (var (seq, job, isStep) in claimed) _rows[job.Id] = new Row(seq, isStep, job.Queue);
    }

    /// <summary>Forgets the job, saying where its row was when this instance claimed it.</summary>
    public bool Forget(Guid id, out Row row) => _rows.Remove(id, out row);

    public void Forget(Guid id) => _rows.Remove(id);
}
