using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Node.Ipc;
using Gantry.Node.Supervision;
using Gantry.Node.Upstream;
using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Gantry.Worker.Links;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Node.Tests.Ipc;

/// <summary>A worker behind a real node (its IPC server, worker session and upstream on a SQLite store) hears that a
/// flow limit held its queue back, as a worker on the store does.</summary>
public sealed class WorkerSessionHeldBackTests
{
    [Fact]
    public async Task Fetch_LimitedQueueCutShort_WorkerHearsHeldBack()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var ct = timeout.Token;
        var dir = Directory.CreateTempSubdirectory("gantry-node-heldback-").FullName;
        try
        {
            await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(dir, "gantry.db") }, ct);
            NewJob Job(string queue) => new() { Id = JobIds.New(), Type = "noop", Queue = queue };
            await store.JobEnqueueManyAsync(new JobEnqueueParams([Job("default"), Job("default"), Job("default"), Job("plain")]), ct);
            await store.QueueLimitsSetAsync("default", new QueueLimits { Concurrency = 2 }, anyQueue: false, ct);

            var options = new NodeOptions { RunDirectory = dir, WorkerCommand = ["unused"] };
            var upstream = new NodeUpstream(new StoreWorkerLink(store), options, NullLogger.Instance, TimeProvider.System);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            await using var server = new IpcServer(options.PrivateDirectory, options.SocketPath,
                (c, hello) => new WorkerSession(c, hello, new ManagedWorker(hello.LocalId), upstream, NullLogger.Instance, stop.Token), () => "{}", NullLogger.Instance);
            await server.StartAsync(ct);
            await using var link = await IpcWorkerLink.ConnectAsync(options.SocketPath, localId: 1, ct);
            await link.RegisterAsync(new WorkerRegistration
            {
                Id = "w1", Host = "test", ProcessId = Environment.ProcessId, Queues = new Dictionary<string, int> { ["default"] = 5, ["plain"] = 5 }, Capacity = 10, JobTypes = ["noop"],
            }, ct);

            JobClaimParams Claim(string queue) => new("w1", [new QueueDemand(queue, 5)], TimeSpan.FromSeconds(30), []);
            var first = await link.ClaimAsync(Claim("default"), mayWait: false, ct);
            Assert.Equal(2, first.Count);
            Assert.Equal(["default"], ClaimedJobs.HeldBackOf(first));
            // No room left: nothing, but still held back, not empty.
            var second = await link.ClaimAsync(Claim("default"), mayWait: false, ct);
            Assert.Empty(second);
            Assert.Equal(["default"], ClaimedJobs.HeldBackOf(second));
            // A plain queue's short claim says nothing.
            var plain = await link.ClaimAsync(Claim("plain"), mayWait: false, ct);
            Assert.Single(plain);
            Assert.Empty(ClaimedJobs.HeldBackOf(plain));
            await stop.CancelAsync();
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }
}
