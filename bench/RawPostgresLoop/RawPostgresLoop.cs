using System.Diagnostics;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace Gantry.Bench;

/// <summary>
/// A minimal batched queue loop on raw PostgreSQL, to put <c>gantry bench</c> in proportion on the same database in
/// the same minute: bulk insert N no-op jobs (COPY), one connection claiming up to <see cref="ClaimBatch"/> per
/// statement with <c>FOR UPDATE SKIP LOCKED</c>, another writing fenced completions (id, attempt, worker, state)
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
        var cs = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema, Pooling = false, ApplicationName = "raw loop" }.ConnectionString;
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

            var batches = 0;
            await using (var complete = new NpgsqlCommand(CompleteSql, completer))
            {
                var ids = new NpgsqlParameter<Guid[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid };
                var attempts = new NpgsqlParameter<int[]> { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer };
                complete.Parameters.Add(ids);
                complete.Parameters.Add(attempts);
                complete.Parameters.Add(new NpgsqlParameter<string>(null!, Worker) { NpgsqlDbType = NpgsqlDbType.Text });
                await complete.PrepareAsync(ct).ConfigureAwait(false);
                var pending = new List<(Guid Id, int Attempt)>(InFlight);
                async Task FlushAsync(int count)
                {
                    ids.TypedValue = [.. pending.Take(count).Select(p => p.Id)];
                    attempts.TypedValue = [.. pending.Take(count).Select(p => p.Attempt)];
                    await complete.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                    pending.RemoveRange(0, count);
                    batches++;
                    Interlocked.Add(ref inFlight, -count);
                    room.Release();
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
