using Gantry.Storage;
using Gantry.Storage.Sqlite;
using Gantry.Worker;
using HelloHandlers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A worker process serving the `greet` job type, on the same store as `gantry run`.
// Usage: dotnet run --project samples/HelloHandlers -- [path/to/gantry.db]
var db = args.Length > 0 ? args[0] : "gantry.db";
var builder = Host.CreateApplicationBuilder();
await using var store = await SqliteJobStore.OpenAsync(new SqliteStoreOptions { Path = db }, CancellationToken.None);

builder.Services.AddSingleton<IJobStore>(store);
builder.Services.AddGantryHandler<GreetHandler>("greet");
builder.Services.AddGantryWorker(new WorkerOptions
{
    Queues = new Dictionary<string, int> { ["default"] = 4 },
});

await builder.Build().RunAsync();
