using Gantry.Server.Intake;
using Gantry.Storage;
using Gantry.Worker.Execution;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Cli.Commands;

/// <summary>What a long-running command prints once it has started: the lines tests and people wait for.</summary>
internal static class Banner
{
    public static string? Version => typeof(Banner).Assembly.GetName().Version?.ToString(3);

    /// <summary>A coordinator's lines: its store, where its API (and dashboard) listens, its drop folder.</summary>
    public static string Coordinator(IHost host, ApiHosting? api, JobsDirectoryOptions? jobsDir)
    {
        var store = host.Services.GetRequiredService<IJobStore>();
        var address = ApiAddress.Of(host);
        return $"""
              store      {store.Description}
              api        {address ?? "off"}{(api is { Dashboard: true } && address is { } url ? $"\n  dashboard  {url}/" : "")}{(jobsDir is null ? "" : $"\n  jobs dir   {Path.GetFullPath(jobsDir.Path)} (results in {Path.GetFullPath(jobsDir.Results)})")}
            """;
    }

    /// <summary>The worker's lines: id, queues, capacity, job types, process isolation.</summary>
    public static string Worker(GantryWorker worker, GantryConfig settings) =>
        $"""
          worker     {worker.Id}{(worker.Options.Name is null ? "" : $" \"{worker.Options.Name}\"")}
          queues     {string.Join(", ", worker.Options.Queues.Select(q => $"{q.Key} (concurrency {q.Value})"))}; capacity {worker.Options.EffectiveCapacity}
          job types  {string.Join(", ", worker.JobTypes)}{Isolation(settings)}
        """;

    /// <summary>How process handlers are isolated, when there are any.</summary>
    private static string Isolation(GantryConfig settings)
    {
        if (settings.Handlers.Count == 0) return "";
        var warning = Gantry.Worker.Isolation.ProcessIsolation.IsDegraded ? "\n  WARNING    no cgroup can be made here: process handlers run with rlimits only" : "";
        return $"\n  config     {settings.Source} ({settings.Handlers.Count} process handler(s))\n  isolation  {Gantry.Worker.Isolation.ProcessIsolation.Description}{warning}";
    }
}
