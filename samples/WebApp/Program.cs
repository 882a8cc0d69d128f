using Gantry;
using Gantry.Handlers;
using WebApp;

var builder = WebApplication.CreateBuilder(args);

// Store, worker and maintenance from appsettings.json ("Gantry"); the handlers this application runs.
builder.Services.AddGantry(builder.Configuration.GetSection("Gantry"))
    .AddHandler<GreetHandler>("greet")
    .AddHandler<ReportHandler>("report")
    .AddWorker();
builder.Services.AddGantryHealthChecks();
// How long the application may take to stop (appsettings.json "HostOptions"); the worker's drain fits inside it.
builder.Services.Configure<HostOptions>(builder.Configuration.GetSection("HostOptions"));
// The application's own data, in the same database as Gantry's store. Registered after AddGantry: its tables are
// created once Gantry has opened (and on SQLite, created) the database.
builder.Services.AddSingleton<AppDb>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<AppDb>());

var app = builder.Build();

// The application's row and its job in one transaction: both or neither.
app.MapPost("/greetings", async (GreetRequest request, IJobClient jobs, AppDb db, CancellationToken ct) =>
{
    await using var connection = await db.OpenAsync(ct);
    await using var tx = await connection.BeginTransactionAsync(ct);
    var id = await jobs.EnqueueAsync<GreetHandler>(new GreetPayload(request.Name), transaction: tx, ct: ct);
    await db.InsertGreetingAsync(connection, tx, request.Name, id, ct);
    if (request.Rollback)
    {
        await tx.RollbackAsync(ct);     // neither the row nor the job exists
        return Results.Ok(new { job = (Guid?)null, rolled_back = true });
    }
    await tx.CommitAsync(ct);           // the job exists, and workers are woken, only now
    return Results.Ok(new { job = (Guid?)id, rolled_back = false });
});

// Waits for the job and answers its typed result; a dead or cancelled job is a 409 naming why.
app.MapGet("/greetings/{job:guid}/result", async (Guid job, IJobClient jobs, CancellationToken ct) =>
{
    try
    {
        var result = await jobs.WaitAsync<GreetResult>(job, ct);
        return Results.Ok(result);
    }
    catch (JobDeadException ex) { return Results.Problem(ex.Message, statusCode: 409); }
    catch (JobCancelledException ex) { return Results.Problem(ex.Message, statusCode: 409); }
    catch (JobNotFoundException ex) { return Results.Problem(ex.Message, statusCode: 404); }
});

app.MapGet("/greetings", async (AppDb db, CancellationToken ct) => Results.Ok(await db.GreetingsAsync(ct)));

// A long job that saves checkpoints: stop the application while it runs and it resumes from the last one.
app.MapPost("/reports", async (ReportPayload request, IJobClient jobs, CancellationToken ct) =>
    Results.Ok(new { job = await jobs.EnqueueAsync<ReportHandler>(request, ct: ct) }));

app.MapGet("/jobs/{job:guid}", async (Guid job, IJobClient jobs, CancellationToken ct) =>
    await jobs.GetAsync(job, ct) is { } record
        ? Results.Ok(new { id = record.Id, type = record.Type, state = record.State.ToString().ToLowerInvariant(), attempt = record.Attempt, result = record.Result })
        : Results.NotFound());

app.MapHealthChecks("/healthz");

app.Run();

namespace WebApp
{
    public sealed record GreetRequest(string Name, bool Rollback = false);
}
