namespace Gantry.Storage;

/// <summary>The migration ledger (<c>gantry_migrations</c>) as both relational stores read it.</summary>
internal static class MigrationSql
{
    /// <summary>The version the schema is at: the newest migration applied, 0 before the first.</summary>
    public const string Version = "SELECT coalesce(max(version), 0) FROM gantry_migrations";
}
