using Gantry.Jobs;
using Gantry.Storage;
using Spectre.Console;

namespace Gantry.Cli.Output;

/// <summary>
/// Follows a job until it ends: a progress bar with the handler's message on a terminal, plain
/// lines when the output is redirected. Reads the store, so it works from any process.
/// </summary>
internal static class ProgressWatch
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <param name="draw">Draw a progress bar (a terminal); otherwise print a line per change, unless <paramref name="quiet"/>.</param>
    public static async Task<JobRecord> FollowAsync(Gantry.Hosting.Control.IGantryControl store, Guid id, bool draw, CancellationToken ct, bool quiet = false)
    {
        if (!draw) return await FollowPlainAsync(store, id, quiet, ct).ConfigureAwait(false);
        JobRecord? last = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("waiting", maxValue: 100);
                while (true)
                {
                    last = await GetAsync(store, id, ct).ConfigureAwait(false);
                    task.Description = Markup.Escape(Describe(last));
                    if (last.Progress is { } p) task.Value = p;
                    if (last.State.IsTerminal())
                    {
                        if (last.State == JobState.Succeeded) task.Value = 100;
                        task.StopTask();
                        break;
                    }
                    await Task.Delay(PollInterval, ct).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        return last!;
    }

    private static async Task<JobRecord> FollowPlainAsync(Gantry.Hosting.Control.IGantryControl store, Guid id, bool quiet, CancellationToken ct)
    {
        string? printed = null;
        while (true)
        {
            var job = await GetAsync(store, id, ct).ConfigureAwait(false);
            var line = $"{job.State.ToText()}{(job.Progress is { } p && job.State == JobState.Running ? $" {p:0}%" : "")}{(job.ProgressMessage is { } m && job.State == JobState.Running ? $" {m}" : "")}";
            if (!quiet && line != printed && !job.State.IsTerminal())
            {
                Console.Out.WriteLine($"  {line}");
                printed = line;
            }
            if (job.State.IsTerminal()) return job;
            await Task.Delay(PollInterval, ct).ConfigureAwait(false);
        }
    }

    private static async Task<JobRecord> GetAsync(Gantry.Hosting.Control.IGantryControl store, Guid id, CancellationToken ct) =>
        await store.JobGetAsync(id, ct).ConfigureAwait(false) ?? throw new JobNotFoundException(id.ToString());

    private static string Describe(JobRecord j) => j.State switch
    {
        JobState.Running => $"{j.Type} attempt {j.Attempt}: {j.ProgressMessage ?? "running"}",
        JobState.Scheduled => $"{j.Type}: scheduled{(j.Attempt > 0 ? $" for attempt {j.Attempt + 1}" : "")}",
        _ => $"{j.Type}: {j.State.ToText()}",
    };

    /// <summary>One line for a finished job: its outcome and result or last error.</summary>
    public static string Outcome(JobRecord j) => j.State switch
    {
        JobState.Succeeded => $"succeeded on attempt {j.Attempt}{(j.Result is { } r ? $": {r}" : "")}",
        JobState.Dead => $"dead after {j.Attempt} attempt(s){(j.Errors.Count > 0 ? $": {j.Errors[^1].Error.Kind}: {j.Errors[^1].Error.Message}" : "")}",
        JobState.Cancelled => "cancelled",
        _ => j.State.ToText(),
    };
}
