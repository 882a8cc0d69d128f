using Gantry.Server.Maintenance;
using Gantry.Worker;

namespace Gantry.Hosting;

/// <summary>
/// Gantry in an application, as <c>AddGantry</c> reads it from a configuration section (<c>"Gantry"</c> in
/// appsettings.json). Either <see cref="Store"/> (the application talks to the store: it enqueues, and runs workers and
/// maintenance) or <see cref="Server"/> (it talks to a Gantry server's HTTP API and holds no database credentials).
/// Checked when the host starts: a wrong value stops the start with a message naming its key.
/// </summary>
public sealed class GantryOptions
{
    /// <summary>The configuration key of each setting, for messages (the section's path, e.g. <c>Gantry</c>).</summary>
    public string SectionPath { get; set; } = "Gantry";

    /// <summary><c>postgres://user:password@host:5432/database</c> (<c>?schema=name</c> picks the schema, default
    /// <c>gantry</c>) or <c>sqlite:path/to/file.db</c>: the same forms as the CLI's <c>--store</c>.</summary>
    public string? Store { get; set; }

    /// <summary>Create or upgrade the store's schema when the host starts. When false the schema is only checked, and a
    /// store at another version is refused (migrations then run elsewhere: <c>gantry migrate</c>). Defaults to true.</summary>
    public bool Migrate { get; set; } = true;

    /// <summary>A Gantry server's base URL (<c>http://host:5080</c>): the client and the worker go through its HTTP API instead of a store.</summary>
    public string? Server { get; set; }

    /// <summary>The bearer token for <see cref="Server"/> (a <c>submit</c> token for the client, a <c>worker</c> token for a worker).</summary>
    public string? Token { get; set; }

    /// <summary>The token the worker of <c>AddWorker()</c> gives <see cref="Server"/> (a <c>worker</c> token), when it is not <see cref="Token"/>.</summary>
    public string? WorkerToken { get; set; }

    /// <summary>The worker that <c>AddWorker()</c> runs: the same names as <see cref="WorkerOptions"/>.</summary>
    public WorkerOptions Worker { get; set; } = new();

    /// <summary>
    /// The node that <c>AddNode()</c> runs (<c>Gantry:Node</c>, the keys of <c>gantry node</c>'s settings): it spawns worker
    /// processes of <see cref="Gantry.Node.NodeOptions.WorkerCommand"/> (by default the <c>gantry</c> command found on <c>PATH</c>).
    /// </summary>
    public Gantry.Node.NodeOptions Node { get; set; } = new() { RunDirectory = Gantry.Node.NodeOptions.DefaultRunDirectory(), WorkerCommand = [] };

    /// <summary>
    /// When the embedded worker (or node) is drained by command (<c>gantry workers drain</c>, <c>POST /api/v1/workers/{id}/drain</c>),
    /// stop the whole application too. Defaults to false: the worker stops, the application goes on.
    /// </summary>
    public bool StopApplicationOnDrain { get; set; }

    /// <summary>Run the maintenance services (scheduler, rescuer, cleaner, dead-worker detector) under leader election
    /// in this application. Needs <see cref="Store"/>. Defaults to true: one process per store runs them, whichever is elected.</summary>
    public bool MaintenanceEnabled { get; set; } = true;

    /// <summary>The maintenance services' intervals and limits.</summary>
    public MaintenanceOptions Maintenance { get; set; } = new();

    /// <summary>An SQLite store file may hold the application's own tables (true for an application; the <c>gantry</c> command
    /// refuses a file that is not a Gantry store).</summary>
    public bool ShareFile { get; set; } = true;

    /// <summary>Where the store is, once the options are valid; null in server mode.</summary>
    internal StoreLocation? StoreLocation { get; private set; }

    /// <summary>The server's address, once the options are valid; null in store mode.</summary>
    internal Uri? ServerUri { get; private set; }

    /// <summary>Errors met while reading the configuration, reported when the options are validated.</summary>
    internal List<string> ReadErrors { get; } = [];

    internal string Key(string name) => string.IsNullOrEmpty(SectionPath) ? name : $"{SectionPath}:{name}";

    /// <summary>Every problem, each naming its key; empty when the options are valid. Fills <see cref="StoreLocation"/> and <see cref="ServerUri"/>.</summary>
    /// <param name="linkGiven">The worker has a link of its own (a node's socket): neither a store nor a server is required.</param>
    /// <param name="nodeAdded">A node runs (<c>AddNode</c>): its options are checked, and its worker program found.</param>
    internal List<string> Check(bool workerAdded, bool linkGiven = false, bool nodeAdded = false)
    {
        var errors = new List<string>(ReadErrors);
        void Try(Action check, Func<InvalidInputException, string> key)
        {
            try { check(); }
            catch (InvalidInputException ex) { errors.Add($"{key(ex)}: {ex.Problem}"); }
        }
        if (!string.IsNullOrWhiteSpace(Store) && !string.IsNullOrWhiteSpace(Server))
            errors.Add($"{Key("Store")} and {Key("Server")} are both set: give the store (this application talks to the database) or the server (it talks to the HTTP API), not both");
        else if (!string.IsNullOrWhiteSpace(Store))
            Try(() => StoreLocation = Stores.Parse(Store, Key("Store")), ex => Key("Store"));
        else if (!string.IsNullOrWhiteSpace(Server))
        {
            if (!Uri.TryCreate(Server.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                errors.Add($"{Key("Server")}: '{Server}' is not an http:// or https:// URL");
            else ServerUri = uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
        }
        else if (!linkGiven)
            errors.Add($"{Key("Store")}: is required (postgres://user:password@host:5432/database or sqlite:path), or {Key("Server")} with {Key("Token")} to go through a Gantry server");

        if (workerAdded)
            Try(Worker.Validate, ex => Key("Worker:" + WorkerKey(ex.Where)));
        if (nodeAdded)
        {
            if (Node.WorkerCommand.Count == 0)
            {
                if (OnPath("gantry") is { } gantry) Node = Node with { WorkerCommand = [gantry] };
                else errors.Add($"{Key("Node:WorkerCommand")}: is required: the program that runs the node's workers (the gantry command: dotnet tool install -g gantry), and no gantry is on PATH");
            }
            if (Node.WorkerCommand.Count > 0) Try(Node.Validate, ex => Key("Node:" + NodeKey(ex.Where)));
        }
        Try(Maintenance.Validate, ex => Key("Maintenance:" + MaintenanceKey(ex.Where)));
        // A worker and the dead-worker detector in one process: a heartbeat too seldom for the timeout would get the worker declared dead.
        if (workerAdded && MaintenanceEnabled && StoreLocation is not null && errors.Count == 0)
            Try(() => HeartbeatRule.Check(Worker.EffectiveHeartbeatInterval, Maintenance.DeadWorkerTimeout, Key("Worker:HeartbeatInterval")), ex => ex.Where);
        if (nodeAdded && MaintenanceEnabled && StoreLocation is not null && errors.Count == 0)
            Try(() => HeartbeatRule.Check(Node.EffectiveHeartbeatInterval, Maintenance.DeadWorkerTimeout, Key("Node:HeartbeatInterval")), ex => ex.Where);
        return errors;
    }

    /// <summary>The configuration key of a field <see cref="WorkerOptions.Validate"/> names.</summary>
    private static string WorkerKey(string where) => where switch
    {
        "name" => "Name",
        "queues" => "Queues",
        "capacity" => "Capacity",
        "heartbeat interval" => "HeartbeatInterval",
        "lease duration" => "LeaseDuration",
        "poll interval" => "PollInterval",
        "command poll interval" => "CommandPollInterval",
        "checkpoint interval" => "CheckpointInterval",
        "max checkpoint bytes" => "MaxCheckpointBytes",
        "max prefetch" => "MaxPrefetch",
        "drain timeout" => "DrainTimeout",
        "cancel grace period" => "CancelGracePeriod",
        "progress interval" => "ProgressInterval",
        "default job timeout" => "DefaultJobTimeout",
        _ => where,
    };

    /// <summary>The configuration key of what <see cref="Gantry.Node.NodeOptions.Validate"/> names: its flag in PascalCase, as
    /// <c>gantry node</c>'s settings are keyed (<c>--min-workers</c> → <c>MinWorkers</c>).</summary>
    private static string NodeKey(string where) => where switch
    {
        "start timeout" => "StartTimeout",
        "command poll interval" => "CommandPollInterval",
        "worker command" => "WorkerCommand",
        _ when where.StartsWith("--", StringComparison.Ordinal) =>
            string.Concat(where[2..].Split('-').Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..])),
        _ => where,
    };

    /// <summary>The full path of <paramref name="program"/> in a folder of <c>PATH</c>, or null.</summary>
    private static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);

    /// <summary>The configuration key of a field <see cref="MaintenanceOptions.Validate"/> names.</summary>
    private static string MaintenanceKey(string where) => where switch
    {
        "scheduler interval" => "SchedulerInterval",
        "rescue interval" => "RescuerInterval",
        "cleaner interval" => "CleanerInterval",
        "dead-worker interval" => "DeadWorkerInterval",
        "upkeep interval" => "UpkeepInterval",
        "retention" => "Retention",
        "worker retention" => "WorkerRetention",
        "dead-worker timeout" => "DeadWorkerTimeout",
        _ => where,
    };
}
