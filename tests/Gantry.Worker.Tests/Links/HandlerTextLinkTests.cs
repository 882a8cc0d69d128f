using System.Text.Json;
using Gantry.Handlers;
using Gantry.Jobs;
using Gantry.Worker.Handlers.BuiltIn;
using Gantry.Worker.Links;
using Gantry.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Worker.Tests.Links;

/// <summary>
/// Text a handler makes (a progress message, a log line, an error) may hold a NUL or half a surrogate pair; it is kept,
/// each such character as U+FFFD, whatever the worker's link. PostgreSQL's text refused a report batch holding a NUL and
/// the API refused it over HTTP: the batch was sent again and again, and every report in it (other jobs' outcomes too)
/// with it, the job left running.
/// </summary>
public sealed class HandlerTextLinkTests : WorkerTestBase
{
    private const string Untidy = "test.untidy";

    protected override void ConfigureServices(IServiceCollection services) => services.AddGantryHandler<UntidyHandler>(Untidy);

    /// <summary>Its first attempt reports, logs and fails with text no store holds as it is; the second returns such text.</summary>
    private sealed class UntidyHandler : IJobHandler<JsonElement, string>
    {
        public async ValueTask<string> HandleAsync(JsonElement payload, JobContext context)
        {
            if (context.Attempt > 1) return "done\uD800";
            await context.ReportProgressAsync(50, "half\0way\uD800");
            context.Logger.LogInformation("line\0with a NUL and a lone \uDC00 low surrogate; a pair stays: \U0001F600");
            throw new InvalidOperationException("failed\0\uD800");
        }
    }

    [Fact]
    public async Task NulsAndLoneSurrogates_OverStoreHttpAndIpc_KeptAsReplacementCharacters_TheJobGoesOn()
    {
        await StartSchedulerAsync(); // promotes the failed first attempt's retry
        await OverEveryLinkAsync([BuiltInHandlers.Echo, Untidy], RunThroughAsync);
    }

    private async Task RunThroughAsync(string name, IWorkerLink link)
    {
        var worker = CreateWorker(link);
        await worker.StartAsync(Ct);
        var id = await EnqueueAsync(Job(Untidy) with { MaxAttempts = 3, Backoff = new Backoff(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)) });

        var job = await WaitForStateAsync(id, JobState.Succeeded);
        Assert.True(job.Attempt == 2, $"over {name}: attempt {job.Attempt}");
        Assert.Equal("done\uFFFD", JsonSerializer.Deserialize<string>(job.Result!));
        Assert.Equal("failed\uFFFD\uFFFD", Assert.Single(job.Errors).Error.Message);
        var lines = await Store.JobLogsAsync(id, Ct);
        Assert.Contains(lines, l => l.Line.Message.Contains("line\uFFFDwith a NUL and a lone \uFFFD low surrogate; a pair stays: \U0001F600", StringComparison.Ordinal));
        await worker.StopAsync(Ct);
    }
}
