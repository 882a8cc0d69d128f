
namespace Gantry.Cli.Options;

/// <summary>
/// The flags that say where a command's coordinator is: a store (<c>--store</c>, <c>--db</c>) or a
/// server (<c>--server</c> with <c>--token</c>). Declared once; <see cref="ControlOptions"/> (control
/// commands) and <see cref="CoordinatorLinkOptions"/> (workers and nodes) each open what they name.
/// </summary>
internal abstract class ServerOrStoreOptions(string serverHelp, string tokenHelp)
{
    public StoreLocationOptions Store { get; } = CliOptions.StoreLocation();
    public Option<Uri?> Server { get; } = CliOptions.Server(serverHelp);
    public Option<string?> Token { get; } = CliOptions.Token(tokenHelp);

    public void AddTo(Command command)
    {
        command.Add(Store);
        command.Options.Add(Server);
        command.Options.Add(Token);
    }
}
