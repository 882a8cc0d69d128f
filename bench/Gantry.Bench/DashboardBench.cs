using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Gantry.Jobs;
using Gantry.Server.Api;
using Gantry.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gantry.Bench;

/// <summary>
/// What each dashboard view asks of the API over a large history (<see cref="HistoryFill"/>, with job types, tags and
/// idempotency keys that the views filter and search on, and one workflow), timed over real HTTP on 127.0.0.1 against
/// the API and dashboard of this process: every call <c>reads</c> times after two warm-up calls, p50 and p99; and the
/// first view (the page, its files, the session and the overview) fetched one after another, as a browser with one
/// connection would.
/// </summary>
public sealed class DashboardBench(IJobStore store, int history, int reads, Action<string> progress)
{
    private const int Queues = 4;

    /// <summary>The history's shape: types <c>mail.send</c> and <c>mail.digest</c> by turns, <c>report.build</c> for one
    /// batch in a hundred; a tag <c>team</c> on one job in ten; an idempotency key on one in twenty.</summary>
    private static NewJob Shape(int n, string queue) => new()
    {
        Id = JobIds.New(),
        Type = n / HistoryFill.Batch % 100 == 7 ? "report.build" : n % 2 == 0 ? "mail.send" : "mail.digest",
        Queue = queue,
        Tags = n % 10 == 0 ? new Dictionary<string, string> { ["team"] = n % 20 == 0 ? "billing" : "ops" } : NewJob.NoTags,
        IdempotencyKey = n % 20 == 3 ? $"order-{n}" : null,
    };

    public async Task<DashboardBenchResult> RunAsync(CancellationToken ct)
    {
        var fill = await HistoryFill.RunAsync(store, history, Queues, Shape, progress, ct).ConfigureAwait(false);
        await store.UpkeepAsync(ct).ConfigureAwait(false);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(store);
        builder.Services.AddGantryApi(new ApiOptions { KnownJobTypes = ["noop"] });
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        await using var app = builder.Build();
        app.MapGantryApi();
        app.MapGantryDashboard();
        await app.StartAsync(ct).ConfigureAwait(false);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First() + "/") };
        try
        {
            var workflow = await http.PostAsync("api/v1/workflows", new StringContent(
                """{"name":"bench","steps":{"a":{"type":"noop"},"b":{"type":"noop","depends_on":["a"]},"c":{"type":"noop","depends_on":["a"]},"d":{"type":"noop","depends_on":["b","c"]}}}""",
                Encoding.UTF8, "application/json"), ct).ConfigureAwait(false);
            workflow.EnsureSuccessStatusCode();
            var workflowId = JsonDocument.Parse(await workflow.Content.ReadAsStringAsync(ct).ConfigureAwait(false)).RootElement.GetProperty("id").GetString();
            // The cursor half way down the history: its page, and its job's page and search by id.
            var deep = await DeepCursorAsync(http, history / 2, ct).ConfigureAwait(false);
            var key = $"order-{history / 2 / 20 * 20 + 3}";
            var calls = new (string View, string Path)[]
            {
                ("overview", "api/v1/overview"),
                ("jobs: first page", "api/v1/jobs?limit=50"),
                ("jobs: a page half way down", $"api/v1/jobs?limit=50&cursor={deep}"),
                ("jobs: state dead (1%)", "api/v1/jobs?limit=50&state=dead"),
                ("jobs: state cancelled (none)", "api/v1/jobs?limit=50&state=cancelled"),
                ("jobs: state queued", "api/v1/jobs?limit=50&state=queued"),
                ("jobs: state scheduled", "api/v1/jobs?limit=50&state=scheduled"),
                ("jobs: queue q1", "api/v1/jobs?limit=50&queue=q1"),
                ("jobs: type report.build (1%)", "api/v1/jobs?limit=50&type=report.build"),
                ("jobs: tag team=billing (5%)", "api/v1/jobs?limit=50&tag=team%3Dbilling"),
                ("jobs: state dead + queue q2 + type mail.send", "api/v1/jobs?limit=50&state=dead&queue=q2&type=mail.send"),
                ("search: id", $"api/v1/jobs?limit=50&search={deep}"),
                ("search: idempotency key", $"api/v1/jobs?limit=50&search={key}"),
                ("search: type prefix mail.", "api/v1/jobs?limit=50&search=mail."),
                ("search: type prefix report (1%)", "api/v1/jobs?limit=50&search=report"),
                ("search: nothing matches", "api/v1/jobs?limit=50&search=nothing-has-this"),
                ("job page: job", $"api/v1/jobs/{deep}"),
                ("job page: logs", $"api/v1/jobs/{deep}/logs"),
                ("workflow page", $"api/v1/workflows/{workflowId}"),
                ("workflows", "api/v1/workflows?limit=50"),
                ("queues", "api/v1/queues"),
                ("workers", "api/v1/workers"),
                ("audit", "api/v1/audit"),
            };
            var timings = new List<DashboardCallTiming>();
            foreach (var (view, path) in calls)
            {
                progress($"timing {view}");
                timings.Add(await TimeAsync(http, view, path, reads, ct).ConfigureAwait(false));
            }
            var firstView = new List<double>();
            string[] first = ["", "dashboard/app.css", "dashboard/app.js", "dashboard/api.js", "dashboard/views.js", "dashboard/svg.js", "dashboard/icon.svg", "dashboard/session", "api/v1/overview"];
            for (var i = 0; i < reads + 2; i++)
            {
                var sw = Stopwatch.StartNew();
                foreach (var path in first)
                    (await http.GetAsync(path, ct).ConfigureAwait(false)).EnsureSuccessStatusCode();
                if (i >= 2) firstView.Add(sw.Elapsed.TotalMilliseconds);
            }
            var (p50, p99, _) = HistoryFill.Percentiles(firstView);
            return new DashboardBenchResult
            {
                Store = store.Description, History = history, Reads = reads, FillSeconds = Math.Round(fill.TotalSeconds, 1),
                Calls = timings, FirstViewP50Ms = p50, FirstViewP99Ms = p99,
            };
        }
        finally
        {
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>The cursor of the page <paramref name="depth"/> jobs down, found by walking pages of 1,000.</summary>
    private static async Task<string> DeepCursorAsync(HttpClient http, int depth, CancellationToken ct)
    {
        string? cursor = null;
        for (var seen = 0; seen < depth; seen += 1000)
        {
            var page = JsonDocument.Parse(await http.GetStringAsync($"api/v1/jobs?limit=1000{(cursor is null ? "" : "&cursor=" + cursor)}", ct).ConfigureAwait(false)).RootElement;
            if (!page.TryGetProperty("next_cursor", out var next) || next.ValueKind != JsonValueKind.String) break;
            cursor = next.GetString();
        }
        return cursor ?? throw new InvalidOperationException("the history has no second page");
    }

    private static async Task<DashboardCallTiming> TimeAsync(HttpClient http, string view, string path, int reads, CancellationToken ct)
    {
        var times = new List<double>();
        var rows = 0;
        for (var i = 0; i < reads + 2; i++)
        {
            var sw = Stopwatch.StartNew();
            using var response = await http.GetAsync(path, ct).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            sw.Stop();
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path}: {(int)response.StatusCode} {body}");
            if (i >= 2) times.Add(sw.Elapsed.TotalMilliseconds);
            if (i == 0) rows = Rows(body);
        }
        var (p50, p99, max) = HistoryFill.Percentiles(times);
        return new DashboardCallTiming(view, path, rows, p50, p99, max);
    }

    /// <summary>How many items an answer holds (a page's jobs or workflows, an array's elements; 1 for one object).</summary>
    private static int Rows(string body)
    {
        var root = JsonDocument.Parse(body).RootElement;
        if (root.ValueKind == JsonValueKind.Array) return root.GetArrayLength();
        foreach (var name in new[] { "jobs", "workflows", "entries" })
            if (root.TryGetProperty(name, out var list) && list.ValueKind == JsonValueKind.Array) return list.GetArrayLength();
        return 1;
    }
}

/// <summary>One API call a view makes: what it returned (rows) and how long it took.</summary>
public sealed record DashboardCallTiming(string View, string Path, int Rows, double P50Ms, double P99Ms, double MaxMs);

public sealed record DashboardBenchResult
{
    public required string Store { get; init; }
    public required int History { get; init; }
    public required int Reads { get; init; }
    public required double FillSeconds { get; init; }
    public required IReadOnlyList<DashboardCallTiming> Calls { get; init; }
    /// <summary>The page, its files, the session and the overview, fetched one after another.</summary>
    public required double FirstViewP50Ms { get; init; }
    public required double FirstViewP99Ms { get; init; }
}
