using Gantry.Testing;

namespace Gantry.Storage.ContractTests.Postgres;

/// <summary>Checks that a store's job_ready matches its queued jobs exactly (PostgresSchema migration 10).</summary>
internal static class PostgresReady
{
    /// <summary>Empty when job_ready holds exactly one row per queued job, with the job's claim key, type and capabilities; otherwise what differs.</summary>
    public static Task<string> MismatchAsync(PostgresCluster cluster, string schema) => cluster.ScalarAsync<string>($"""
        WITH queued AS (
          SELECT queue, priority, seq, id AS job_id, type, required_capabilities FROM "{schema}".jobs WHERE state = 'queued'),
        ready AS (
          SELECT queue, priority, seq, job_id, type, required_capabilities FROM "{schema}".job_ready),
        missing AS (SELECT * FROM queued EXCEPT ALL SELECT * FROM ready),
        extra AS (SELECT * FROM ready EXCEPT ALL SELECT * FROM queued)
        SELECT coalesce(string_agg('missing ' || job_id, ', '), '') || coalesce((SELECT string_agg(' extra ' || job_id, ', ') FROM extra), '')
        FROM missing
        """);
}
