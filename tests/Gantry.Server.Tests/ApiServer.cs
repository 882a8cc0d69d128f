using Gantry.Server.Api;
using Gantry.Storage.Sqlite;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Server.Tests;

/// <summary>The API on a real Kestrel at 127.0.0.1 (a free port), over a fresh SQLite file.</summary>
public sealed class ApiServer(ApiOptions? options = null) : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gantry-api-").FullName;
    private WebApplication? _app;

    public IJobStore Store { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    /// <summary>The running app's services (its endpoints, options).</summary>
    public IServiceProvider Services => _app!.Services;

    public static readonly ApiOptions Defaults = new() { KnownJobTypes = ["echo", "sleep"], MaxRequestBytes = 64 * 1024 };

    public ApiOptions Options { get; } = options ?? Defaults;

    public async Task InitializeAsync()
    {
        Store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(_dir, "gantry.db") }, CancellationToken.None);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = Options.MaxRequestBytes);
        builder.Services.AddSingleton(Store);
        builder.Services.AddGantryApi(Options);
        _app = builder.Build();
        _app.MapGantryApi();
        await _app.StartAsync();
        Http = new HttpClient { BaseAddress = new Uri(_app.Urls.First()) };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null) await _app.DisposeAsync();
        await Store.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }
}
