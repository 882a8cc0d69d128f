using Gantry.Cli;
using Gantry.Cli.Commands;

var root = new RootCommand("Gantry runs background jobs reliably: submit jobs, run them on workers, watch them finish.")
{
    RunCommand.Create(),
    ServerCommand.Create(),
    WorkerCommand.Create(),
    NodeCommand.Create(),
    WorkersCommand.Create(),
    SubmitCommand.Create(),
    JobsCommand.Create(),
    AuditCommand.Create(),
    WorkflowsCommand.Create(),
    QueuesCommand.Create(),
    CronCommand.Create(),
    MigrateCommand.Create(),
    ConfigCommand.Create(),
    TokenCommand.Create(),
    BenchCommand.Create(),
};
return await Cli.InvokeAsync(root, args).ConfigureAwait(false);
