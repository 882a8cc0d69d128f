using System.CommandLine;
using Gantry.Cli;
using Gantry.Cli.Commands;

// gantry-worker runs exactly `gantry worker`: `gantry-worker worker [flags]` (as a node spawns it) or `gantry-worker [flags]`.
var root = WorkerCommand.Configure(new RootCommand("A Gantry worker (gantry worker, without the web host): claim jobs from the store (or a server's worker protocol) and run them (Ctrl-C to drain and stop)"));
return await Cli.InvokeAsync(root, args is ["worker", .. var rest] ? rest : args).ConfigureAwait(false);
