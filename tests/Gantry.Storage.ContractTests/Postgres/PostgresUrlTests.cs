using Gantry.Storage.Postgres;
using Npgsql;

namespace Gantry.Storage.ContractTests.Postgres;

public sealed class PostgresUrlTests
{
    [Fact]
    public void Parse_FullUrl_EveryPart()
    {
        var (cs, schema) = PostgresUrl.Parse("postgresql://ada:p%40ss@db.example:6543/jobs?schema=gq&sslmode=disable");
        var b = new NpgsqlConnectionStringBuilder(cs);

        Assert.Equal(("db.example", 6543, "ada", "p@ss", "jobs"), (b.Host, b.Port, b.Username, b.Password, b.Database));
        Assert.Equal("gq", schema);
        Assert.Equal(SslMode.Disable, b.SslMode);
    }

    [Fact]
    public void Parse_NoPort_Default5432AndGantrySchema()
    {
        var (cs, schema) = PostgresUrl.Parse("postgres://u@localhost/db");

        Assert.Equal(5432, new NpgsqlConnectionStringBuilder(cs).Port);
        Assert.Equal(PostgresStoreOptions.SchemaDefault, schema);
    }

    [Theory]
    [InlineData("postgres://host")]
    [InlineData("postgres:///db")]
    [InlineData("mysql://u@h/db")]
    [InlineData("postgres://u@h/db?nonsense=1")]
    public void Parse_Bad_InvalidInputWithoutPassword(string url)
    {
        var ex = Assert.Throws<InvalidInputException>(() => PostgresUrl.Parse(url));

        Assert.StartsWith("--store: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_HidesPassword() =>
        Assert.Equal("postgres://ada:***@h:5432/db", PostgresUrl.Redact("postgres://ada:secret@h:5432/db"));
}
