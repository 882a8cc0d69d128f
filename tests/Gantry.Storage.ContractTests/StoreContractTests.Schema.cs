namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    /// <summary>The newest migration this backend's code knows.</summary>
    protected abstract int LatestSchemaVersion { get; }

    [Fact]
    public async Task SchemaVersion_FreshStore_IsLatestMigration()
    {
        Assert.Equal(LatestSchemaVersion, await Store.SchemaVersionAsync(Ct));

        await Store.MigrateAsync(Ct);
        var other = await OpenAnotherAsync();

        Assert.Equal(LatestSchemaVersion, await other.SchemaVersionAsync(Ct));
    }
}
