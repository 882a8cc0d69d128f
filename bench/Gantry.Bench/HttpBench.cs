using Gantry.Hosting;
using Gantry.Server.Api;
using Gantry.Storage;
using Gantry.Worker.Links;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Bench;

/// <summary>
/// HTTP-mode workers next to direct-store workers, in one run on the same machine: the same
/// benchmark (<see cref="BenchRunner"/>) once with the worker on the store and once with the worker
/// speaking the worker protocol to a real Kestrel server on 127.0.0.1 (batched fetch, long poll).
/// </summary>
public static class HttpBench
{
    public static async Task<HttpBenchResult> RunAsync(StoreLocation? location, int jobs, int concurrency, int samples, Action<string> progress, CancellationToken ct)
    {
        progress("direct: the worker on the store");
        var direct = await OnFreshStoreAsync(location, "direct", store => new BenchRunner(store, jobs, concurrency, samples, progress).RunAsync(ct), ct).ConfigureAwait(false);
        progress("http: the worker over the worker protocol");
        var http = await OnFreshStoreAsync(location, "http", async store =>
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Services.AddSingleton(store);
            builder.Services.AddGantryApi(new ApiOptions { KnownJobTypes = ["bench"] });
            await using var app = builder.Build();
            app.MapGantryApi();
            await app.StartAsync(ct).ConfigureAwait(false);
            var url = new Uri(app.Urls.First());
            var links = new List<HttpWorkerLink>();
            try
            {
                return await new BenchRunner(store, jobs, concurrency, samples, progress, () =>
                {
                    var l = new HttpWorkerLink(url, token: null);
                    links.Add(l);
                    return l;
                }).RunAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                foreach (var l in links) l.Dispose();
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }, ct).ConfigureAwait(false);
        return new HttpBenchResult(direct, http, Math.Round(http.JobsPerSecond / direct.JobsPerSecond, 3));
    }

    /// <summary>Runs on a store of its own: a temporary SQLite file, or a fresh schema of the given PostgreSQL database.</summary>
    private static async Task<BenchResult> OnFreshStoreAsync(StoreLocation? location, string name, Func<IJobStore, Task<BenchResult>> run, CancellationToken ct)
    {
        if (location is PostgresLocation pg)
        {
            var schema = $"{pg.Schema}_bench_{name}_{Environment.ProcessId}";
            await using (var store = await Stores.OpenAsync(pg with { Schema = schema }, createIfMissing: true, ct).ConfigureAwait(false))
            {
                await BenchStore.RequireEmptyAsync(store, ct).ConfigureAwait(false);
                return await run(store).ConfigureAwait(false);
            }
        }
        var dir = Directory.CreateTempSubdirectory("gantry-bench-").FullName;
        try
        {
            await using var store = await Stores.OpenAsync(new SqliteLocation(Path.Combine(dir, $"{name}.db")), createIfMissing: true, ct).ConfigureAwait(false);
            return await run(store).ConfigureAwait(false);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

/// <summary>What <c>gantry bench http --json</c> prints.</summary>
public sealed record HttpBenchResult(BenchResult Direct, BenchResult Http, double HttpToDirectThroughput);
