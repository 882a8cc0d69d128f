namespace Gantry.Storage.ContractTests;

public abstract partial class StoreContractTests
{
    private static readonly TimeSpan LeaderTtl = TimeSpan.FromSeconds(10);

    private Task<bool> ElectAsync(IJobStore store, string holder, string name = "maintenance") =>
        store.LeaderTryElectAsync(new LeaderElectParams(name, holder, LeaderTtl), Ct);

    [Fact]
    public async Task LeaderTryElect_TwoHolders_OneWinsAndKeepsIt()
    {
        var other = await OpenAnotherAsync();

        Assert.True(await ElectAsync(Store, "a"));
        Assert.False(await ElectAsync(other, "b"));
        Time.Advance(LeaderTtl / 2);
        Assert.True(await ElectAsync(Store, "a"));
        Time.Advance(LeaderTtl / 2 + TimeSpan.FromSeconds(1));

        // Renewed half way, so still a's a ttl after it was first elected.
        Assert.False(await ElectAsync(other, "b"));
        Assert.True(await ElectAsync(Store, "a"));
    }

    [Fact]
    public async Task LeaderTryElect_OtherName_ElectedSeparately()
    {
        Assert.True(await ElectAsync(Store, "a", "maintenance"));

        Assert.True(await ElectAsync(Store, "b", "reports"));
        Assert.False(await ElectAsync(Store, "b", "maintenance"));
    }

    [Fact]
    public async Task LeaderResign_Winner_OtherWins()
    {
        var other = await OpenAnotherAsync();
        Assert.True(await ElectAsync(Store, "a"));
        Assert.False(await ElectAsync(other, "b"));

        await Store.LeaderResignAsync(new LeaderResignParams("maintenance", "a"), Ct);

        Assert.True(await ElectAsync(other, "b"));
        Assert.False(await ElectAsync(Store, "a"));
    }

    [Fact]
    public async Task LeaderResign_NotLeader_ChangesNothing()
    {
        Assert.True(await ElectAsync(Store, "a"));

        await Store.LeaderResignAsync(new LeaderResignParams("maintenance", "b"), Ct);

        Assert.False(await ElectAsync(Store, "b"));
        Assert.True(await ElectAsync(Store, "a"));
    }

    [Fact]
    public async Task LeaderTryElect_WinnerVanishedPastTtl_OtherWins()
    {
        // The winner's process dies without resigning: its store instance goes away, nobody renews.
        var doomed = await OpenAnotherAsync();
        var other = await OpenAnotherAsync();
        Assert.True(await ElectAsync(doomed, "a"));
        Assert.False(await ElectAsync(other, "b"));

        await doomed.DisposeAsync();
        Time.Advance(LeaderTtl + TimeSpan.FromSeconds(1));

        // A session lock is freed by the server a moment after its connection closes: allow it that moment.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        var won = await ElectAsync(other, "b");
        while (!won && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
            won = await ElectAsync(other, "b");
        }
        Assert.True(won);
    }
}
