namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    private AlertMessage Alert(string key) => new(Gantry.Jobs.JobIds.New(), key, "http://127.0.0.1:9/hook", AlertEvents.JobDead, $"{{\"key\":\"{key}\"}}", Time.GetUtcNow());

    [Fact]
    public async Task AlertOutbox_EachKeyOnce_DueUntilSettled_RetriedWhenAsked_PrunedAfterKeep()
    {
        Assert.Equal(2, await Store.AlertEnqueueAsync([Alert("a"), Alert("b")], Ct));
        Assert.Equal(1, await Store.AlertEnqueueAsync([Alert("a"), Alert("c")], Ct)); // a is there already
        var due = await Store.AlertDueAsync(10, Ct);
        Assert.Equal(["""{"key":"a"}""", """{"key":"b"}""", """{"key":"c"}"""], due.Select(d => d.Body).Order(StringComparer.Ordinal));
        Assert.All(due, d => Assert.Equal(0, d.Attempts));
        Assert.Equal(2, (await Store.AlertDueAsync(2, Ct)).Count);

        var a = due.Single(d => d.Body.Contains("\"a\"", StringComparison.Ordinal));
        var b = due.Single(d => d.Body.Contains("\"b\"", StringComparison.Ordinal));
        var c = due.Single(d => d.Body.Contains("\"c\"", StringComparison.Ordinal));
        await Store.AlertSettleAsync(
        [
            new AlertAttemptResult(a.Id, true, null, null),
            new AlertAttemptResult(b.Id, false, Time.GetUtcNow().AddSeconds(2), "HTTP 503"),
            new AlertAttemptResult(c.Id, false, null, "given up"),
        ], TimeSpan.FromDays(1), Ct);
        Assert.Empty(await Store.AlertDueAsync(10, Ct));
        Time.Advance(TimeSpan.FromSeconds(2));
        var retried = Assert.Single(await Store.AlertDueAsync(10, Ct));
        Assert.Equal((b.Id, 1), (retried.Id, retried.Attempts));

        // Settled alerts keep their keys for the keep period, then go.
        Assert.Equal(0, await Store.AlertEnqueueAsync([Alert("a")], Ct));
        Time.Advance(TimeSpan.FromDays(1) + TimeSpan.FromSeconds(1));
        await Store.AlertSettleAsync([], TimeSpan.FromDays(1), Ct);
        Assert.Equal(1, await Store.AlertEnqueueAsync([Alert("a")], Ct));
    }
}
