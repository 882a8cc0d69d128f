using System.Diagnostics;
using Microsoft.Data.Sqlite;
using SQLitePCL;

// A minimal batched queue loop on raw SQLite, to put `gantry bench` in proportion on the same
// machine in the same minute: bulk insert N no-op jobs, claim up to B per statement, complete each
// claimed job with a fenced UPDATE, one connection, WAL, synchronous=NORMAL. No handlers, no
// leases renewed, no retries: the ceiling a real runtime on this store can approach.
// Usage: dotnet run -c Release --project bench/RawSqliteLoop -- [jobs=20000] [batch=500]
var jobs = args.Length > 0 ? int.Parse(args[0]) : 20_000;
var batch = args.Length > 1 ? int.Parse(args[1]) : 500;
var dir = Directory.CreateTempSubdirectory("gantry-rawloop-");
try
{
    using var c = new SqliteConnection($"Data Source={Path.Combine(dir.FullName, "raw.db")}");
    c.Open();
    void Exec(string sql) { using var cmd = c.CreateCommand(); cmd.CommandText = sql; cmd.ExecuteNonQuery(); }
    Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536");
    Exec("CREATE TABLE jobs (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, queue TEXT NOT NULL, state TEXT NOT NULL, payload TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, worker TEXT)");
    Exec("CREATE INDEX jobs_claim ON jobs (queue, seq) WHERE state = 'queued'");
    var db = c.Handle!;
    raw.sqlite3_prepare_v2(db, "INSERT INTO jobs (id, type, queue, state, payload) VALUES (?1, 'noop', 'default', 'queued', '{}')", out sqlite3_stmt insert);
    raw.sqlite3_prepare_v2(db, "UPDATE jobs SET state = 'running', attempt = attempt + 1, worker = 'w' WHERE seq IN (SELECT seq FROM jobs WHERE state = 'queued' AND queue = 'default' ORDER BY seq LIMIT ?1) RETURNING seq, id, type, payload, attempt", out sqlite3_stmt claim);
    raw.sqlite3_prepare_v2(db, "UPDATE jobs SET state = 'succeeded' WHERE seq = ?1 AND attempt = ?2 AND worker = 'w' AND state = 'running'", out sqlite3_stmt complete);

    var watch = Stopwatch.StartNew();
    for (var done = 0; done < jobs; done += 1000)
    {
        Exec("BEGIN IMMEDIATE");
        for (var i = 0; i < Math.Min(1000, jobs - done); i++)
        {
            raw.sqlite3_bind_text(insert, 1, Guid.CreateVersion7().ToString());
            raw.sqlite3_step(insert);
            raw.sqlite3_reset(insert);
        }
        Exec("COMMIT");
    }
    var enqueue = jobs / watch.Elapsed.TotalSeconds;

    watch.Restart();
    var claimed = new List<(long Seq, int Attempt)>(batch);
    for (var drained = 0; drained < jobs;)
    {
        claimed.Clear();
        Exec("BEGIN IMMEDIATE");
        raw.sqlite3_bind_int64(claim, 1, batch);
        while (raw.sqlite3_step(claim) == raw.SQLITE_ROW)
        {
            _ = raw.sqlite3_column_text(claim, 1).utf8_to_string();
            _ = raw.sqlite3_column_text(claim, 3).utf8_to_string();
            claimed.Add((raw.sqlite3_column_int64(claim, 0), raw.sqlite3_column_int(claim, 4)));
        }
        raw.sqlite3_reset(claim);
        Exec("COMMIT");
        Exec("BEGIN IMMEDIATE");
        foreach (var (seq, attempt) in claimed)
        {
            raw.sqlite3_bind_int64(complete, 1, seq);
            raw.sqlite3_bind_int(complete, 2, attempt);
            raw.sqlite3_step(complete);
            raw.sqlite3_reset(complete);
        }
        Exec("COMMIT");
        drained += claimed.Count;
    }
    var drain = jobs / watch.Elapsed.TotalSeconds;
    raw.sqlite3_finalize(insert);
    raw.sqlite3_finalize(claim);
    raw.sqlite3_finalize(complete);
    Console.WriteLine($$"""{"jobs": {{jobs}}, "batch": {{batch}}, "enqueue_jobs_per_second": {{enqueue:0}}, "jobs_per_second": {{drain:0}}}""");
}
finally
{
    SqliteConnection.ClearAllPools();
    dir.Delete(recursive: true);
}
