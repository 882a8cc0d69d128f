using Gantry.Cli.Output;
using Gantry.Server.Api;
using Gantry.Storage;

namespace Gantry.Cli.Commands;

/// <summary><c>gantry audit</c>: the audit log, newest first.</summary>
internal static class AuditCommand
{
    public static Command Create()
    {
        var limit = new Option<int>("--limit", "-n") { Description = "Most entries to list, newest first", DefaultValueFactory = _ => 50, HelpName = "n" };
        var action = new Option<string?>("--action") { Description = "Only entries of this action (e.g. jobs.bulk_retry, queues.pause)", HelpName = "action" };
        var actor = new Option<string?>("--actor") { Description = "Only entries of this actor (a token's name, loopback, cli:<user>)", HelpName = "actor" };
        var json = CliOptions.Json();
        var location = CliOptions.Control();
        var config = CliOptions.Config();
        var command = new Command("audit", "Show the audit log: who (token name) did what to what, when, and how many jobs it touched")
        {
            limit, action, actor, json, location, config,
        };
        command.SetHandler(async (parse, ct) =>
        {
            var n = parse.GetValue(limit);
            if (n is < 1 or > 10_000) throw new InvalidInputException("--limit", $"must be between 1 and 10000, got {n}");
            GantryConfig.Load(parse.GetValue(config));
            await using var store = await location.OpenAsync(parse, createIfMissing: false, ct).ConfigureAwait(false);
            var entries = await store.AuditListAsync(new AuditListParams { Limit = n, Action = parse.GetValue(action), Actor = parse.GetValue(actor) }, ct)
                .ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                Cli.WriteJson(entries.Select(AuditEntryView.From).ToArray(), Cli.Json.AuditEntryViewArray);
                return Cli.Ok;
            }
            if (entries.Count == 0) Console.Out.WriteLine("no audit entries");
            foreach (var e in entries)
                Console.Out.WriteLine(JobText.Printable($"{e.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z  {e.Actor,-16}  {e.Action,-20}  {e.Target}{(e.Count is { } c ? $"  ({c:N0} jobs)" : "")}{(e.Detail is { } d ? $"  {d}" : "")}"));
            return Cli.Ok;
        });
        return command;
    }
}
