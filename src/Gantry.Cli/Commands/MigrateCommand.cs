
namespace Gantry.Cli.Commands;

/// <summary>
/// <c>gantry migrate</c>: creates or upgrades the store's schema and says which version it is at.
/// Every command migrates on open anyway; this lets an operator do it ahead of a rollout.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create()
    {
        var location = CliOptions.StoreLocation();
        var command = new Command("migrate", "Create or upgrade the store's schema and print its version") { location };
        command.SetHandler(async (parse, ct) =>
        {
            await using var store = await location.OpenAsync(parse, createIfMissing: true, ct).ConfigureAwait(false);
            await store.MigrateAsync(ct).ConfigureAwait(false);
            var version = await store.SchemaVersionAsync(ct).ConfigureAwait(false);
            Console.Out.WriteLine($"{store.Description}: schema version {version}");
            return Cli.Ok;
        });
        return command;
    }
}
