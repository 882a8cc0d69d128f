using Gantry.Server.Api;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Tests.Support;

/// <summary>The Gantry API on a real Kestrel at 127.0.0.1 (a free port) over the test's store, for HTTP workers.</summary>
internal static class TestServer
{
    public static async Task<WebApplication> StartAsync(IJobStore store, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(store);
        builder.Services.AddGantryApi();
        var app = builder.Build();
        app.MapGantryApi();
        await app.StartAsync(ct);
        return app;
    }

    public static Uri Url(this WebApplication app) => new(app.Urls.First());
}
