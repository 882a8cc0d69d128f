using System.Data.Common;
using Gantry.Storage.Postgres;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace WebApp;

/// <summary>
/// The application's own table, in the database Gantry's store lives in: an SQLite file, or a PostgreSQL database (the
/// application's tables in its default schema, Gantry's in the schema <c>gantry</c>). Connections are opened from
/// <c>ConnectionStrings:App</c>, or from <c>Gantry:Store</c> when that is not given.
/// </summary>
public sealed class AppDb(IConfiguration configuration) : IHostedService
{
    private readonly string _store = configuration["Gantry:Store"] ?? throw new InvalidOperationException("Gantry:Store is not set");

    private bool IsSqlite => _store.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase);

    public async Task<DbConnection> OpenAsync(CancellationToken ct)
    {
        var explicitly = configuration.GetConnectionString("App");
        DbConnection connection = IsSqlite
            ? new SqliteConnection(explicitly ?? $"Data Source={_store["sqlite:".Length..]}")
            : new NpgsqlConnection(explicitly ?? PostgresUrl.Parse(_store, "Gantry:Store").ConnectionString);
        await connection.OpenAsync(ct);
        return connection;
    }

    /// <summary>Creates the table once Gantry has opened the database (this service starts after Gantry's).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "CREATE TABLE IF NOT EXISTS greetings (name text NOT NULL, job_id text NOT NULL)";
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    public async Task InsertGreetingAsync(DbConnection c, DbTransaction tx, string name, Guid job, CancellationToken ct)
    {
        await using var cmd = c.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = "INSERT INTO greetings (name, job_id) VALUES (@name, @job)";
        AddParameter(cmd, "@name", name);
        AddParameter(cmd, "@job", job.ToString());
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<IReadOnlyList<object>> GreetingsAsync(CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT name, job_id FROM greetings";
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<object>();
        while (await r.ReadAsync(ct)) rows.Add(new { name = r.GetString(0), job = r.GetString(1) });
        return rows;
    }

    private static void AddParameter(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }
}
