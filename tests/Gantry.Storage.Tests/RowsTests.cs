using System.Data.Common;

namespace Gantry.Storage.Tests;

/// <summary>Each row kind's column list names as many columns as its reader reads (the readers themselves run in the contract suite).</summary>
public sealed class RowsTests
{
    private readonly struct Columns : IStoreColumns
    {
        public static DateTimeOffset Time(DbDataReader r, int i) => throw new NotSupportedException();
        public static string JsonText(string column) => $"json({column}, 'a')";
        public static string ListJsonText(string column) => $"list({column})";
        public static string ByteLength(string column) => $"bytes({column})";
        public static string LeaseUntil => "lease(a, b)";
    }

    [Theory]
    [InlineData("job", 36)]
    [InlineData("worker", 15)]
    [InlineData("schedule", 19)]
    public void Columns_CountIsWhatTheReaderReads(string row, int count)
    {
        var columns = row switch
        {
            "job" => JobRows<Columns>.Columns,
            "worker" => WorkerRows<Columns>.Columns,
            _ => ScheduleRows<Columns>.Select[..ScheduleRows<Columns>.Select.IndexOf("FROM", StringComparison.Ordinal)],
        };

        Assert.Equal(count, TopLevelCommas(columns) + 1);
    }

    [Fact]
    public void Columns_StoresPiecesTakeTheirPlaces()
    {
        var columns = string.Join(' ', JobRows<Columns>.Columns.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));

        Assert.Contains("worker_id, lease(a, b), idempotency_key, json(tags, 'a'), list(required_capabilities), progress", columns, StringComparison.Ordinal);
        Assert.Contains("cancel_requested_at, bytes(checkpoint), checkpoint_at", columns, StringComparison.Ordinal);
    }

    private static int TopLevelCommas(string sql)
    {
        int depth = 0, commas = 0;
        var quoted = false;
        foreach (var ch in sql)
        {
            if (ch == '\'') quoted = !quoted;
            else if (quoted) continue;
            else if (ch == '(') depth++;
            else if (ch == ')') depth--;
            else if (ch == ',' && depth == 0) commas++;
        }
        return commas;
    }
}
