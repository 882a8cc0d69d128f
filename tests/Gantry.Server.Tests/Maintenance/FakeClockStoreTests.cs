using Gantry.Storage;
using Gantry.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Gantry.Server.Tests.Maintenance;

/// <summary>
/// A real SQLite store on a temporary file reading a fake clock: leases expire and jobs come due when a test moves
/// <see cref="Clock"/>, so the maintenance services' single rounds are tested in milliseconds.
/// </summary>
public abstract class FakeClockStoreTests : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private TempSqliteStore _temp = null!;

    protected FakeTimeProvider Clock { get; } = TestClock.New();
    protected IJobStore Store => _temp.Store;
    protected TempSqliteStore Temp => _temp;

    /// <summary>Cancels a test that hangs instead of failing.</summary>
    protected CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync() => _temp = await TempSqliteStore.CreateAsync(Clock);

    public async Task DisposeAsync()
    {
        await _temp.DisposeAsync();
        _timeout.Dispose();
    }
}
