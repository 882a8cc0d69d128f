using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.TestSupport;

/// <summary>Short ways to put a store into the state a test starts from, through <see cref="IJobStore"/> alone.</summary>
public static class StoreTestExtensions
{
    /// <summary>A job of type <c>test</c> on queue <c>default</c> unless told otherwise.</summary>
    public static NewJob Job(string type = "test", string queue = "default") => new() { Id = JobIds.New(), Type = type, Queue = queue };

    /// <summary>A worker serving queue <c>default</c> with 4 slots.</summary>
    public static WorkerRegistration Worker(string id) => new()
    {
        Id = id,
        Host = "test-host",
        ProcessId = 4242,
        Version = "1.0.0",
        Queues = new Dictionary<string, int> { ["default"] = 4 },
        Capacity = 4,
        JobTypes = [],
    };

    public static async Task<Guid> EnqueueAsync(this IJobStore store, NewJob job, CancellationToken ct = default) =>
        (await store.JobEnqueueManyAsync(new JobEnqueueParams([job]), ct)).Single().Id;

    /// <summary>Claims the one job queued in <paramref name="queue"/> for <paramref name="worker"/>, under a lease of <paramref name="lease"/>.</summary>
    public static async Task<ClaimedJob> ClaimOneAsync(this IJobStore store, string worker, TimeSpan lease, string queue = "default", CancellationToken ct = default) =>
        (await store.JobClaimAsync(new JobClaimParams(worker, [new QueueDemand(queue, 1)], lease, [], null), ct)).Single();

    /// <summary>The job, which must be in the store.</summary>
    public static async Task<JobRecord> GetAsync(this IJobStore store, Guid id, CancellationToken ct = default) =>
        await store.JobGetAsync(id, ct) ?? throw new InvalidOperationException($"job {id} is not in the store");
}
