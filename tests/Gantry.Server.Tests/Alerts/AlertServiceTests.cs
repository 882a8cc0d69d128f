using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Gantry.Jobs;
using Gantry.Server.Alerts;
using Gantry.Server.Maintenance;
using Gantry.Server.Tests.Maintenance;
using Gantry.Storage;
using Gantry.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Alerts;

/// <summary>Alert webhooks against a real receiver (Kestrel on 127.0.0.1), on a real SQLite store under a fake clock.</summary>
public sealed class AlertServiceTests : FakeClockStoreTests
{
    private const string Secret = "a-secret-of-more-than-16-chars";

    private sealed record Received(string Body, string? Signature, string? Event, string? Delivery);

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A receiver on <paramref name="port"/> that keeps what it is sent and answers 204.</summary>
    private static async Task<WebApplication> StartReceiverAsync(int port, ConcurrentQueue<Received> received)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapPost("/hook", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            received.Enqueue(new Received(await reader.ReadToEndAsync(), request.Headers[WebhookSignature.Header], request.Headers[WebhookSignature.EventHeader],
                request.Headers[WebhookSignature.DeliveryHeader]));
            return Results.NoContent();
        });
        await app.StartAsync();
        return app;
    }

    private AlertService Service(Uri url, params string[] events) =>
        new(Store, new AlertOptions { Webhooks = [new AlertWebhook(url, Secret, events.Length > 0 ? events : AlertEvents.All)], QueueStalledAfter = TimeSpan.FromMinutes(10) },
            NullLogger<AlertService>.Instance, Clock);

    private async Task<Guid> DeadJobAsync()
    {
        var id = await Store.EnqueueAsync(StoreTestExtensions.Job("resize") with { MaxAttempts = 1 }, Ct);
        var claimed = await Store.ClaimOneAsync("w1", TimeSpan.FromMinutes(5), ct: Ct);
        Assert.Equal([true], await Store.JobReportManyAsync(
            [new JobFailedReport(id, claimed.Attempt, "w1", new JobError(JobErrorKinds.Exception, "the image is corrupt"), JobState.Dead, null)], Ct));
        return id;
    }

    [Fact]
    public async Task JobDead_ReceiverDownForAWhile_DeliveredOnceItIsBack_SignedAndDurable()
    {
        var port = FreePort();
        var url = new Uri($"http://127.0.0.1:{port}/hook");
        var id = await DeadJobAsync();
        var leader = Service(url);

        Assert.Equal(1, await leader.ScanOnceAsync(Ct));
        Assert.Equal(0, await leader.ScanOnceAsync(Ct)); // the same event again adds nothing

        // Nobody listens: refused, retried after 1 s, then 2 s.
        Assert.Equal(0, await leader.DeliverOnceAsync(Ct));
        Assert.Empty(await Store.AlertDueAsync(10, Ct));
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, await leader.DeliverOnceAsync(Ct));
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Empty(await Store.AlertDueAsync(10, Ct)); // backing off: the second retry is 2 s after the first
        leader.Dispose();

        // The leader goes away; the outbox is in the store, so the next one delivers what is left.
        var received = new ConcurrentQueue<Received>();
        await using var receiver = await StartReceiverAsync(port, received);
        var next = Service(url);
        Assert.Equal(0, await next.ScanOnceAsync(Ct));
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await next.DeliverOnceAsync(Ct));
        Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await next.DeliverOnceAsync(Ct));
        Assert.Equal(0, await next.ScanOnceAsync(Ct));

        var got = Assert.Single(received);
        Assert.True(WebhookSignature.Verify(Secret, got.Body, got.Signature, Clock.GetUtcNow(), TimeSpan.FromMinutes(10)), got.Signature);
        Assert.False(WebhookSignature.Verify(Secret, got.Body.Replace("corrupt", "fine", StringComparison.Ordinal), got.Signature, Clock.GetUtcNow(), TimeSpan.FromMinutes(10)));
        Assert.False(WebhookSignature.Verify("another-secret-of-16-chars", got.Body, got.Signature, Clock.GetUtcNow(), TimeSpan.FromMinutes(10)));
        Assert.Equal(AlertEvents.JobDead, got.Event);
        using var body = JsonDocument.Parse(got.Body);
        Assert.Equal(got.Delivery, body.RootElement.GetProperty("id").GetString());
        Assert.Equal(AlertEvents.JobDead, body.RootElement.GetProperty("event").GetString());
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(id.ToString(), data.GetProperty("job_id").GetString());
        Assert.Equal("the image is corrupt", data.GetProperty("error").GetString());
        next.Dispose();
    }

    [Fact]
    public async Task Scan_WorkerDiedAndQueueStalled_OnlyTheEventsAWebhookWants()
    {
        var url = new Uri($"http://127.0.0.1:{FreePort()}/hook");
        await Store.WorkerRegisterAsync(StoreTestExtensions.Worker("gone"), Ct);
        await Store.EnqueueAsync(StoreTestExtensions.Job() with { Queue = "slow" }, Ct);
        Clock.Advance(TimeSpan.FromMinutes(11));
        await new DeadWorkerDetector(Store, new MaintenanceOptions(), NullLogger<DeadWorkerDetector>.Instance, Clock).RunOnceAsync(Ct);
        await DeadJobAsync();

        var workersOnly = Service(url, AlertEvents.WorkerDied);
        Assert.Equal(1, await workersOnly.ScanOnceAsync(Ct));
        var all = Service(new Uri($"http://127.0.0.1:{FreePort()}/other"));
        Assert.Equal(3, await all.ScanOnceAsync(Ct)); // worker.died, queue.stalled (slow), job.dead
        var due = await Store.AlertDueAsync(10, Ct);
        Assert.Equal(
            [AlertEvents.JobDead, AlertEvents.QueueStalled, AlertEvents.WorkerDied, AlertEvents.WorkerDied],
            due.Select(d => d.Event).Order(StringComparer.Ordinal));
        var stalled = JsonDocument.Parse(due.Single(d => d.Event == AlertEvents.QueueStalled).Body).RootElement.GetProperty("data");
        Assert.Equal("slow", stalled.GetProperty("queue").GetString());
        workersOnly.Dispose();
        all.Dispose();
    }
}
