using Gantry.Cli;
using Gantry.Cli.Commands;

// gantry-worker runs exactly `gantry worker`, as its one command: `gantry-worker worker [flags]` (as a node spawns it) or
// `gantry-worker [flags]`. The command keeps its name, so gantry.json's "worker" section and GANTRY_WORKER__* apply.
var root = new RootCommand("A Gantry worker without the web host (gantry worker's flags; see gantry-worker worker --help)") { WorkerCommand.Create() };
return await Cli.InvokeAsync(root, args is ["worker", ..] ? args : ["worker", .. args]).ConfigureAwait(false);
