using Gantry.Jobs;
using Microsoft.Data.Sqlite;

namespace Gantry.Storage.Sqlite;

/// <summary>Reads of jobs on pooled read connections: one job with its errors, usage and logs, pages of the job list
/// (filters, tags, search), and the counts and oldest ids of a match (what bulk actions walk).</summary>
internal sealed class SqliteJobQueries(SqliteDatabase db) : IStoreJobQueries
{
    private static readonly string JobColumns = JobRows<SqliteColumns>.Columns;

    private static JobRecord ReadJob(SqliteDataReader r) => JobRows<SqliteColumns>.Read(r);

    public Task<JobRecord?> JobGetAsync(Guid id, CancellationToken ct) => db.ReadAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {JobColumns} FROM jobs WHERE id = @id";
        cmd.Bind("@id", id.ToString());
        long seq;
        JobRecord job;
        using (var r = cmd.ExecuteReader())
        {
            if (!r.Read()) return null;
            seq = r.GetInt64(0);
            job = ReadJob(r);
        }
        using var errors = c.CreateCommand();
        errors.CommandText = $"SELECT {JobRows<SqliteColumns>.ErrorColumns} FROM job_errors WHERE job_seq = @seq ORDER BY attempt";
        errors.Bind("@seq", seq);
        using var e = errors.ExecuteReader();
        var list = new List<JobAttemptError>();
        while (e.Read())
            list.Add(JobRows<SqliteColumns>.ReadError(e));
        using var usage = c.CreateCommand();
        usage.CommandText = $"SELECT {JobRows<SqliteColumns>.UsageColumns} FROM job_usage WHERE job_seq = @seq ORDER BY attempt";
        usage.Bind("@seq", seq);
        using var u = usage.ExecuteReader();
        var used = new List<JobAttemptUsage>();
        while (u.Read()) used.Add(JobRows<SqliteColumns>.ReadUsage(u));
        return job with { Errors = list, Usage = used };
    }, ct);

    public Task<IReadOnlyList<JobAttemptLogLine>> JobLogsAsync(Guid id, CancellationToken ct) => db.ReadAsync<IReadOnlyList<JobAttemptLogLine>>(c =>
    {
        using var find = c.CreateCommand();
        find.CommandText = "SELECT seq FROM jobs WHERE id = @id";
        find.Bind("@id", id.ToString());
        if (find.ExecuteScalar() is not long seq) throw new JobNotFoundException(id.ToString());
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {JobRows<SqliteColumns>.LogColumns} FROM job_logs WHERE job_seq = @seq ORDER BY attempt, n";
        cmd.Bind("@seq", seq);
        using var r = cmd.ExecuteReader();
        var lines = new List<JobAttemptLogLine>();
        while (r.Read())
            lines.Add(JobRows<SqliteColumns>.ReadLogLine(r));
        return lines;
    }, ct);

    public Task<IReadOnlyList<JobRecord>> JobListAsync(JobListParams p, CancellationToken ct) => db.ReadAsync<IReadOnlyList<JobRecord>>(c =>
    {
        // One read transaction: the kept count and the walk it bounds see the same jobs.
        using var tx = c.BeginTransaction(deferred: true);
        using var cmd = c.CreateCommand();
        var from = "jobs";
        var order = "seq";
        List<string> where;
        if (p.Search is { } search)
        {
            // The search's candidates are each found through an index and bounded by the page: every filter goes into them.
            where = FilterWhere(cmd, new JobFilter { State = p.State, Queue = p.Queue, Type = p.Type, Tags = p.Tags, ConcurrencyKey = p.ConcurrencyKey });
            if (p.Before is { } b) { where.Add("seq < coalesce((SELECT seq FROM jobs WHERE id = @before), 0)"); cmd.Bind("@before", b.ToString()); }
            var types = Guid.TryParse(search, out _) ? [] : TypesStarting(c, search);
            where = [JobSearch.Sql(search, types, "seq", where, t => $"type = {t}", "substr(type, 1, length(@search)) = @search", out var asId)];
            cmd.Bind("@search", search);
            if (asId is { } id) cmd.Bind("@search_id", id.ToString());
            for (var i = 0; i < types?.Count; i++) cmd.Bind($"@search_type{i}", types[i]);
        }
        else
        {
            // With tags, the page is walked from the first tag's entries, newest first (job_tags' key ends in the row key), so
            // a page costs its own rows whether the tag is common or rare; the other tags are looked up per row.
            var first = p.Tags?.FirstOrDefault();
            if (first is { Key: { } firstKey, Value: { } firstValue })
            {
                from = "jobs JOIN job_tags AS t ON t.job_seq = jobs.seq AND t.key = @tk AND t.value = @tv";
                order = "t.job_seq";
                cmd.Bind("@tk", firstKey);
                cmd.Bind("@tv", firstValue);
            }
            where = FilterWhere(cmd, new JobFilter { State = p.State, Queue = p.Queue, Type = p.Type, Tags = p.Tags?.Skip(1).ToDictionary(), ConcurrencyKey = p.ConcurrencyKey });
            if (p.Before is { } before) { where.Add("seq < coalesce((SELECT seq FROM jobs WHERE id = @before), 0)"); cmd.Bind("@before", before.ToString()); }
        }
        var limit = JobListBound.Limit(Math.Clamp(p.Limit, 1, 10_000), p.State is { } state ? CountInState(c, state, p.Queue) : null);
        var list = new List<JobRecord>();
        if (limit == 0) return list;
        cmd.CommandText = $"SELECT {JobColumns} FROM {from} {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY {order} DESC LIMIT @limit";
        cmd.Bind("@limit", limit);
        using var r = cmd.ExecuteReader();
        while (r.Read()) list.Add(ReadJob(r));
        return list;
    }, ct);

    /// <summary>The jobs in <paramref name="state"/> (of <paramref name="queue"/>, or all queues) by the kept counts
    /// (<see cref="JobListBound"/>); null for queued and running, which the counts leave to the claim and lease indexes.</summary>
    private static long? CountInState(SqliteConnection c, JobState state, string? queue)
    {
        if (state is JobState.Queued or JobState.Running) return null;
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT coalesce(sum(n), 0) FROM queue_counts WHERE state = @state{(queue is null ? "" : " AND queue = @queue")}";
        cmd.Bind("@state", state.ToText());
        if (queue is not null) cmd.Bind("@queue", queue);
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static readonly string TypesStartingSql = JobSearch.TypesSql("");

    /// <summary>The job types that start with <paramref name="prefix"/> (<see cref="JobSearch.TypesSql"/>); null when more than
    /// <see cref="JobSearch.MaxPrefixTypes"/> do.</summary>
    private static List<string>? TypesStarting(SqliteConnection c, string prefix)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = TypesStartingSql;
        cmd.Bind("@search", prefix);
        cmd.Bind("@search_end", JobSearch.PrefixEnd(prefix));
        using var r = cmd.ExecuteReader();
        var types = new List<string>();
        while (r.Read()) types.Add(r.GetString(0));
        return types.Count > JobSearch.MaxPrefixTypes ? null : types;
    }

    /// <summary>The conditions of a job filter, bound on <paramref name="cmd"/>. A tag is found through job_tags (indexed by
    /// key and value), so a page of a rare tag does not walk the whole table.</summary>
    private static List<string> FilterWhere(SqliteCommand cmd, JobFilter f)
    {
        var where = new List<string>();
        if (f.State is { } state) { where.Add("state = @state"); cmd.Bind("@state", state.ToText()); }
        if (f.Queue is not null) { where.Add("queue = @queue"); cmd.Bind("@queue", f.Queue); }
        if (f.Type is not null) { where.Add("type = @type"); cmd.Bind("@type", f.Type); }
        if (f.ConcurrencyKey is not null) { where.Add("concurrency_key = @concurrency_key"); cmd.Bind("@concurrency_key", f.ConcurrencyKey); }
        var i = 0;
        foreach (var (key, value) in f.Tags ?? NewJob.NoTags)
        {
            where.Add($"jobs.seq IN (SELECT job_seq FROM job_tags WHERE key = @tk{i} AND value = @tv{i})");
            cmd.Bind($"@tk{i}", key);
            cmd.Bind($"@tv{i}", value);
            i++;
        }
        return where;
    }

    private static List<string> MatchWhere(SqliteCommand cmd, JobMatch m)
    {
        var where = FilterWhere(cmd, m.Filter with { State = null });
        where.Add($"state IN ({string.Join(", ", m.States.Select(s => $"'{s.ToText()}'"))})");
        if (m.NotCancelRequested) where.Add("cancel_requested_at IS NULL");
        if (m.After is { } after)
        {
            // The oldest-first order is seq's; a cursor job removed meanwhile ends the walk (nothing compares above NULL).
            where.Add("seq > (SELECT seq FROM jobs WHERE id = @after)");
            cmd.Bind("@after", after.ToString());
        }
        return where;
    }

    public Task<long> JobCountAsync(JobMatch m, CancellationToken ct) => db.ReadAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM jobs WHERE {string.Join(" AND ", MatchWhere(cmd, m))}";
        return Convert.ToInt64(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }, ct);

    public Task<IReadOnlyList<Guid>> JobFindOldestAsync(JobMatch m, int limit, CancellationToken ct) => db.ReadAsync<IReadOnlyList<Guid>>(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT id FROM jobs WHERE {string.Join(" AND ", MatchWhere(cmd, m))} ORDER BY seq LIMIT @limit";
        cmd.Bind("@limit", limit);
        using var r = cmd.ExecuteReader();
        var ids = new List<Guid>();
        while (r.Read()) ids.Add(Guid.Parse(r.GetString(0)));
        return ids;
    }, ct);
}
