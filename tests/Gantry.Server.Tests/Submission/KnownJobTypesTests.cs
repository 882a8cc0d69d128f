using Gantry.Jobs;
using Gantry.Server.Submission;
using Gantry.Storage;
using Gantry.TestSupport;

namespace Gantry.Server.Tests.Submission;

/// <summary>Which types a submission may name, on a real SQLite store with real worker registrations.</summary>
public sealed class KnownJobTypesTests
{
    private static NewJob Job(string type) => new() { Id = JobIds.New(), Type = type };

    [Fact]
    public async Task CheckAsync_RepeatedWhileTheServedTypesAreFresh_ServedAcceptedAndUnknownStillRefused()
    {
        await using var temp = await TempSqliteStore.CreateAsync();
        var store = temp.Store;
        await store.WorkerRegisterAsync(StoreTestExtensions.Worker("w1") with { JobTypes = ["resize"] }, CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            await KnownJobTypes.CheckAsync(store, [Job("resize")], [], CancellationToken.None);
            // The remembered types never let an unknown one through: it is looked up afresh, and refused naming it.
            var unknown = await Assert.ThrowsAsync<InvalidInputException>(() => KnownJobTypes.CheckAsync(store, [Job("resize"), Job("thumbnail")], [], CancellationToken.None));
            Assert.Contains("'thumbnail'", unknown.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("'resize'", unknown.Message.Split(';')[0], StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task CheckAsync_WorkerRegistersAfterARefusal_ItsTypeAcceptedAtOnce()
    {
        await using var temp = await TempSqliteStore.CreateAsync();
        var store = temp.Store;
        await Assert.ThrowsAsync<InvalidInputException>(() => KnownJobTypes.CheckAsync(store, [Job("resize")], ["echo"], CancellationToken.None));

        await store.WorkerRegisterAsync(StoreTestExtensions.Worker("w1") with { JobTypes = ["resize"] }, CancellationToken.None);

        await KnownJobTypes.CheckAsync(store, [Job("resize"), Job("echo")], ["echo"], CancellationToken.None);
    }
}
