using Gantry.Flow;
using Gantry.Storage.Sqlite.Native;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// Chooses a per-key claim's jobs (docs/flow-control.md, "Fairness"), inside the claim's write transaction, by prepared
/// statements on the write connection (each step a few microseconds in process). The walk reads the keys with jobs this
/// worker may run in key order from the one after the cursor, wrapping around up to it; each key gives its turn (its
/// first jobs, up to its free room and <see cref="FlowSql.KeyTurn"/>), read in the one descent that finds the key, and
/// the walk stops once the turns fill the room (or after as many keys as the room). When it runs out of keys first, each
/// key walked gives up to its free room and an equal share of the room. Jobs without a key are one key together, first
/// in the walk, found over jobs_unkeyed_claim (schema migration 16).
/// Candidates go lowest turn first (the key's slots held + the job's place among its own), then walk order.
/// </summary>
internal sealed class SqliteKeyWalk(SqliteDatabase db)
{
    private readonly Dictionary<(int?, int), (string Next, string OfKey, string Unkeyed)> _sql = [];

    /// <summary>A walk's outcome: the jobs to claim (at most the room, in turn order), the keys it walked, in order, and
    /// the last of them (in walk order) that a chosen job belongs to (null: none).</summary>
    public readonly record struct Choice(List<long> Seqs, List<string> Walked, string? LastServed);

    public Choice Choose(string queue, string cursor, long room, QueueLimits limits, long keySince, JobClaimParams p)
    {
        var sql = Statements(p);
        var turn = Math.Min(limits.PerKey ?? FlowSql.KeyTurn, FlowSql.KeyTurn);
        var walked = new List<(string Key, long Held, long Free)>();
        var cand = new List<(long Seq, long Turn, int Ord)>();
        var read = new List<(string Key, long Seq)>(turn);
        long got = 0;
        var after = cursor;
        var wrapping = false;
        while (walked.Count < room && got < room)
        {
            read.Clear();
            // Past the wrap the walk goes up to the cursor, bounded in SQL (SQLite orders text by its UTF-8 bytes, not as C# does).
            var next = ClaimStatements.BindFilters(db.Raw(sql.Next), p).Bind("@queue", queue).Bind("@after", after).Bind("@upto", wrapping ? cursor : null).Bind("@n", turn);
            try
            {
                while (next.Step()) read.Add((next.GetString(0), next.GetInt64(1)));
            }
            finally
            {
                next.Reset();
            }
            if (read.Count == 0)
            {
                if (wrapping || cursor.Length == 0) break;
                (wrapping, after) = (true, "");
                continue;
            }
            var key = read[0].Key;
            var held = Held(queue, key);
            var free = Free(queue, key, held, limits, keySince);
            walked.Add((key, held, free));
            // The descent read up to a turn's entries: when the key has fewer, the rest are later keys', left for their turn.
            for (var i = 0; i < read.Count && read[i].Key == key && i < free; i++, got++) cand.Add((read[i].Seq, held + i + 1, walked.Count));
            after = key;
        }

        // The walk ran out of keys before the turns filled the room: each key it walked may give up to an equal share.
        var share = Math.Max(turn, (room + Math.Max(1, walked.Count) - 1) / Math.Max(1, walked.Count));
        if (share > turn)
        {
            cand.Clear();
            for (var w = 0; w < walked.Count; w++)
            {
                var (key, held, free) = walked[w];
                var i = 0;
                foreach (var seq in Read(ClaimStatements.BindFilters(db.Raw(sql.OfKey), p).Bind("@queue", queue).Bind("@key", key).Bind("@n", Math.Min(share, free))))
                    cand.Add((seq, held + ++i, w + 1));
            }
        }
        var unkeyedHeld = Held(queue, key: null);
        var unkeyedFree = Math.Min(share, Free(queue, key: null, unkeyedHeld, limits, keySince));
        if (unkeyedFree > 0)
        {
            var i = 0;
            foreach (var seq in Read(ClaimStatements.BindFilters(db.Raw(sql.Unkeyed), p).Bind("@queue", queue).Bind("@n", unkeyedFree)))
                cand.Add((seq, unkeyedHeld + ++i, 0));
        }
        cand.Sort((a, b) => a.Turn != b.Turn ? a.Turn.CompareTo(b.Turn) : a.Ord.CompareTo(b.Ord));
        var seqs = new List<long>((int)Math.Min(room, cand.Count));
        var lastServed = 0; // the walk's places start at 1; jobs without a key have place 0
        for (var i = 0; i < cand.Count && i < room; i++)
        {
            seqs.Add(cand[i].Seq);
            lastServed = Math.Max(lastServed, cand[i].Ord);
        }
        return new Choice(seqs, walked.ConvertAll(w => w.Key), lastServed == 0 ? null : walked[lastServed - 1].Key);
    }

    /// <summary>The slots a key's running jobs hold (null: the jobs without a key), over the partial index jobs_slots.</summary>
    private long Held(string queue, string? key)
    {
        var count = key is null
            ? db.Raw("SELECT count(*) FROM jobs WHERE queue = @queue AND concurrency_key IS NULL AND slot = 1 AND state = 'running'").Bind("@queue", queue)
            : db.Raw("SELECT count(*) FROM jobs WHERE queue = @queue AND concurrency_key = @key AND slot = 1 AND state = 'running'").Bind("@queue", queue).Bind("@key", key);
        return count.ReadInt64();
    }

    /// <summary>How many more jobs of a key may start now: its per-key limit less its slots, and its rate per key less
    /// its starts within the window (jobs without a key are the key ''); either absent, no bound.</summary>
    private long Free(string queue, string? key, long held, QueueLimits limits, long keySince)
    {
        var free = (limits.PerKey ?? (long)QueueLimits.MaxLimit) - held;
        if (limits.RatePerKey is { } rate)
            free = Math.Min(free, rate.Count - db.Raw("SELECT coalesce(sum(n), 0) FROM queue_key_starts WHERE queue = @queue AND concurrency_key = @key AND at > @since")
                .Bind("@queue", queue).Bind("@key", key ?? "").Bind("@since", keySince).ReadInt64());
        return Math.Max(0, free);
    }

    private (string Next, string OfKey, string Unkeyed) Statements(JobClaimParams p)
    {
        var shape = (p.JobTypes?.Count, p.Capabilities.Count);
        if (_sql.TryGetValue(shape, out var sql)) return sql;
        var filters = ClaimStatements.Filters(shape.Item1, shape.Item2, "x");
        return _sql[shape] = (
            // Over jobs_key_claim: the next key's first jobs, and past them the next keys' when it has fewer than @n.
            $"""
             SELECT x.concurrency_key, x.seq FROM jobs AS x
             WHERE x.state = 'queued' AND x.queue = @queue AND x.concurrency_key > @after AND (@upto IS NULL OR x.concurrency_key <= @upto) {filters}
             ORDER BY x.concurrency_key, x.priority DESC, x.seq LIMIT @n
             """,
            $"""
             SELECT x.seq FROM jobs AS x
             WHERE x.state = 'queued' AND x.queue = @queue AND x.concurrency_key = @key {filters}
             ORDER BY x.priority DESC, x.seq LIMIT @n
             """,
            $"""
             SELECT x.seq FROM jobs AS x INDEXED BY jobs_unkeyed_claim
             WHERE x.state = 'queued' AND x.unkeyed_turn = 1 AND x.queue = @queue {filters}
             ORDER BY x.priority DESC, x.seq LIMIT @n
             """);
    }

    private static List<long> Read(RawStatement statement)
    {
        var seqs = new List<long>();
        try
        {
            while (statement.Step()) seqs.Add(statement.GetInt64(0));
        }
        finally
        {
            statement.Reset();
        }
        return seqs;
    }
}
