using System.Diagnostics;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace Gantry.Bench;

/// <summary>
/// A minimal batched queue loop on raw PostgreSQL, to put <c>gantry bench</c> in proportion on the same database in
/// the same minute: bulk insert N no-op jobs (COPY), one connection claiming up to <see cref="ClaimBatch"/> per
/// statement with <c>FOR UPDATE SKIP LOCKED</c>, two more writing fenced completions (id, attempt, worker, state)
/// flushed every <see cref="FlushJobs"/> jobs or <see cref="FlushAfter"/>. Claims commit without waiting for their WAL
/// flush and completions wait for it, as Gantry's do. No handlers, leases, retries, counts or notifications: the
/// practical limit of the machine and the database for this work.
/// </summary>
internal static class RawPostgresLoop
{
    /// <summary>Rows one claim takes at most.</summary>
    public const int ClaimBatch = 1000;

    /// <summary>Completions written by one statement; fewer after <see cref="FlushAfter"/>.</summary>
    public const int FlushJobs = 500;

    /// <summary>How long a completion waits for others to share its statement.</summary>
    public static readonly TimeSpan FlushAfter = TimeSpan.FromMilliseconds(5);

    /// <summary>Jobs claimed and not yet completed, at most: two claims ahead.</summary>
    private const int InFlight = 4 * ClaimBatch;

    /// <summary>Completion statements in flight at once, each on its own connection.</summary>
    private const int CompletionWriters = 2;

    private const string Worker = "raw";

    private const string CreateSql = """
        CREATE TABLE jobs (
          id uuid PRIMARY KEY, queue text NOT NULL, type text NOT NULL, state text NOT NULL,
          payload jsonb NOT NULL DEFAULT '{}', attempt int NOT NULL DEFAULT 0, worker text,
          created_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz, finished_at timestamptz) WITH (fillfactor = 70);
        CREATE INDEX jobs_claim ON jobs (queue, id);
        """;

    private const string ClaimSql = """
        UPDATE jobs SET state = 'running', attempt = attempt + 1, worker = $2, started_at = now()
        WHERE id = ANY(ARRAY(
          SELECT id FROM jobs WHERE queue = 'default' AND state = 'queued' AND id > $3 ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED))
        RETURNING id, type, payload::text, attempt
        """;

    private const string CompleteSql = """
        UPDATE jobs AS j SET state = 'succeeded', finished_at = now()
        FROM unnest($1::uuid[], $2::int[]) AS d(id, attempt)
        WHERE j.id = d.id AND j.attempt = d.attempt AND j.worker = $3 AND j.state = 'running'
        """;

    /// <summary>
    /// Runs the loop over <paramref name="jobs"/> jobs in a schema of its own in the database
    /// <paramref name="connectionString"/> names, made for the run and dropped after it.
    /// </summary>
    public static async Task<RawLoopResult> RunAsync(string connectionString, int jobs, CancellationToken ct)
    {
        var schema = $"rawloop_{Environment.ProcessId}_{Guid.NewGuid():N}"[..32];
        // Sequential scans off for every statement: a plan made while the table looked small would join the completions'
        // arrays against a scan of the whole table (Gantry's statements do the same, see PostgresArrayUpdate).
        var cs = new NpgsqlConnectionStringBuilder(connectionString)
        {
            SearchPath = schema, Pooling = false, ApplicationName = "raw loop", Options = "-c enable_seqscan=off",
        }.ConnectionString;
        await using var claimer = new NpgsqlConnection(cs);
        await using var completer = new NpgsqlConnection(cs);
        await claimer.OpenAsync(ct).ConfigureAwait(false);
        await completer.OpenAsync(ct).ConfigureAwait(false);
        await ExecAsync(claimer, $"CREATE SCHEMA {schema}; {CreateSql}; SET synchronous_commit = off", ct).ConfigureAwait(false);
        try
        {
            var enqueue = Stopwatch.StartNew();
            await using (var copy = await claimer.BeginBinaryImportAsync("COPY jobs (id, queue, type, state) FROM STDIN (FORMAT BINARY)", ct).ConfigureAwait(false))
            {
                for (var i = 0; i < jobs; i++)
                {
                    await copy.StartRowAsync(ct).ConfigureAwait(false);
                    await copy.WriteAsync(Guid.CreateVersion7(), NpgsqlDbType.Uuid, ct).ConfigureAwait(false);
                    await copy.WriteAsync("default", NpgsqlDbType.Text, ct).ConfigureAwait(false);
                    await copy.WriteAsync("noop", NpgsqlDbType.Text, ct).ConfigureAwait(false);
                    await copy.WriteAsync("queued", NpgsqlDbType.Text, ct).ConfigureAwait(false);
                }
                await copy.CompleteAsync(ct).ConfigureAwait(false);
            }
            var enqueueSeconds = enqueue.Elapsed.TotalSeconds;
            await ExecAsync(claimer, "ANALYZE jobs", ct).ConfigureAwait(false);

            var claimed = Channel.CreateUnbounded<(Guid Id, int Attempt)[]>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
            var room = new SemaphoreSlim(0);
            var inFlight = 0;
            var claims = 0;
            var drain = Stopwatch.StartNew();
            var claiming = Task.Run(async () =>
            {
                await using var claim = new NpgsqlCommand(ClaimSql, claimer);
                claim.Parameters.Add(new NpgsqlParameter<int> { NpgsqlDbType = NpgsqlDbType.Integer });
                claim.Parameters.Add(new NpgsqlParameter<string>(null!, Worker) { NpgsqlDbType = NpgsqlDbType.Text });
                var after = new NpgsqlParameter<Guid>(null!, Guid.Empty) { NpgsqlDbType = NpgsqlDbType.Uuid };
                claim.Parameters.Add(after);
                await claim.PrepareAsync(ct).ConfigureAwait(false);
                for (var taken = 0; taken < jobs;)
                {
                    var limit = Math.Min(ClaimBatch, InFlight - Volatile.Read(ref inFlight));
                    if (limit <= 0)
                    {
                        await room.WaitAsync(ct).ConfigureAwait(false);
                        continue;
                    }
                    ((NpgsqlParameter<int>)claim.Parameters[0]).TypedValue = limit;
                    var rows = new List<(Guid, int)>(limit);
                    await using (var r = await claim.ExecuteReaderAsync(ct).ConfigureAwait(false))
                        while (await r.ReadAsync(ct).ConfigureAwait(false))
                        {
                            _ = r.GetString(1);
                            _ = r.GetString(2);
                            rows.Add((r.GetGuid(0), r.GetInt32(3)));
                        }
                    claims++;
                    if (rows.Count > 0) after.TypedValue = rows.Max(x => x.Item1);
                    taken += rows.Count;
                    Interlocked.Add(ref inFlight, rows.Count);
                    claimed.Writer.TryWrite([.. rows]);
                }
                claimed.Writer.Complete();
            }, ct);

            // Two writers, each on its own connection: a flush does not wait for the previous one's commit (its WAL flush).
            var batches = 0;
            var writers = new (NpgsqlConnection Connection, NpgsqlCommand Command, Task Last)[CompletionWriters];
            for (var w = 0; w < writers.Length; w++)
            {
                var connection = w == 0 ? completer : new NpgsqlConnection(cs);
                if (w > 0) await connection.OpenAsync(ct).ConfigureAwait(false);
                var command = new NpgsqlCommand(CompleteSql, connection);
                command.Parameters.Add(new NpgsqlParameter<Guid[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
                command.Parameters.Add(new NpgsqlParameter<int[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
                command.Parameters.Add(new NpgsqlParameter<string>(null!, Worker) { NpgsqlDbType = NpgsqlDbType.Text });
                await command.PrepareAsync(ct).ConfigureAwait(false);
                writers[w] = (connection, command, Task.CompletedTask);
            }
            try
            {
                var pending = new List<(Guid Id, int Attempt)>(InFlight);
                async Task FlushAsync(int count)
                {
                    var w = batches++ % writers.Length;
                    await writers[w].Last.ConfigureAwait(false);
                    var writer = writers[w];
                    ((NpgsqlParameter<Guid[]>)writer.Command.Parameters[0]).TypedValue = [.. pending.Take(count).Select(p => p.Id)];
                    ((NpgsqlParameter<int[]>)writer.Command.Parameters[1]).TypedValue = [.. pending.Take(count).Select(p => p.Attempt)];
                    pending.RemoveRange(0, count);
                    writers[w].Last = writer.Command.ExecuteNonQueryAsync(ct).ContinueWith(t =>
                    {
                        t.GetAwaiter().GetResult();
                        Interlocked.Add(ref inFlight, -count);
                        room.Release();
                    }, ct, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                }
                var reader = claimed.Reader;
                var oldest = 0L; // when the oldest pending completion arrived
                while (true)
                {
                    bool open;
                    if (pending.Count == 0) open = await reader.WaitToReadAsync(ct).ConfigureAwait(false);
                    else
                    {
                        // A short run waits a little for more to share its statement.
                        using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                        wait.CancelAfter(FlushAfter - Stopwatch.GetElapsedTime(oldest) is { Ticks: > 0 } left ? left : TimeSpan.Zero);
                        try { open = await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false); }
                        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { open = true; }
                    }
                    while (reader.TryRead(out var some))
                    {
                        if (pending.Count == 0) oldest = Stopwatch.GetTimestamp();
                        pending.AddRange(some);
                    }
                    while (pending.Count >= FlushJobs)
                    {
                        await FlushAsync(FlushJobs).ConfigureAwait(false);
                        oldest = Stopwatch.GetTimestamp();
                    }
                    if (!open) break;
                    if (pending.Count > 0 && Stopwatch.GetElapsedTime(oldest) >= FlushAfter) await FlushAsync(pending.Count).ConfigureAwait(false);
                }
                if (pending.Count > 0) await FlushAsync(pending.Count).ConfigureAwait(false);
                await Task.WhenAll(writers.Select(w => w.Last)).ConfigureAwait(false);
            }
            finally
            {
                foreach (var (connection, command, _) in writers)
                {
                    await command.DisposeAsync().ConfigureAwait(false);
                    if (connection != completer) await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
            await claiming.ConfigureAwait(false);
            var drainSeconds = drain.Elapsed.TotalSeconds;
            return new RawLoopResult(jobs, Math.Round(jobs / enqueueSeconds), Math.Round(jobs / drainSeconds), claims, batches);
        }
        finally
        {
            await ExecAsync(completer, $"DROP SCHEMA {schema} CASCADE", CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task ExecAsync(NpgsqlConnection c, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}

/// <summary>One run of <see cref="RawPostgresLoop"/>: jobs per second enqueueing (COPY) and draining (first claim to last
/// completion committed), and the statements the drain took.</summary>
internal sealed record RawLoopResult(int Jobs, double EnqueueJobsPerSecond, double JobsPerSecond, int Claims, int CompletionBatches);
