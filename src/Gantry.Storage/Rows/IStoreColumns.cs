using System.Data.Common;

namespace Gantry.Storage;

/// <summary>
/// What differs between the relational stores in selecting and reading a column, supplied by each store as a struct (so
/// that the row readers are compiled for it: its members are called directly, and nothing is allocated or boxed for them):
/// how a timestamp is kept, and how a JSON, list or blob column is selected. Everything else a row reader does is the
/// same on every store.
/// </summary>
internal interface IStoreColumns
{
    /// <summary>Timestamp column <paramref name="i"/> (not null).</summary>
    static abstract DateTimeOffset Time(DbDataReader r, int i);

    /// <summary>A JSON column selected as its text.</summary>
    static abstract string JsonText(string column);

    /// <summary>A list-of-text column selected as a JSON array's text.</summary>
    static abstract string ListJsonText(string column);

    /// <summary>A blob column's length in bytes.</summary>
    static abstract string ByteLength(string column);

    /// <summary>A job's lease expiry, as an expression over the <c>jobs</c> row.</summary>
    static abstract string LeaseUntil { get; }
}
