using System.Net;
using System.Text;
using OpenQA.Selenium;

namespace Gantry.Dashboard.Tests;

/// <summary>The dashboard of an open <c>gantry run</c> (loopback, no tokens) in a real browser: every view, live updates, actions.</summary>
public sealed class OpenDashboardTests(OpenSite site) : IClassFixture<OpenSite>
{
    [Fact]
    public async Task Overview_ShowsQueuesAttentionChartsAndWorkers_FirstViewFast()
    {
        await site.SubmitAsync("""{"type":"fail","queue":"mail","payload":{"times":9},"max_attempts":1}""");
        var dead = await site.SubmitAsync("""{"type":"fail","queue":"mail","payload":{"times":9},"max_attempts":1}""");
        await site.SubmitAsync("""{"type":"echo","payload":{"hello":"dashboard"}}""");
        await site.WaitForStateAsync(dead, "dead");

        // First view: from the navigation's start to the overview drawn from /api/v1/overview, as the page itself
        // marks it (performance.mark), so that the driver's own round trips are not counted. The median of five loads.
        var times = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            site.Browser.Navigate().GoToUrl("about:blank");
            site.Open("#/");
            site.Element("table.queues tr[data-queue='mail']", "the queue table");
            times.Add(Convert.ToDouble(site.Browser.ExecuteScript("return performance.getEntriesByName('gantry-first-view')[0].startTime;"), System.Globalization.CultureInfo.InvariantCulture));
        }
        times.Sort();
        var firstView = times[times.Count / 2];
        Console.WriteLine($"dashboard first view (navigation start to overview drawn), median of 5: {firstView:0} ms; all: {string.Join(", ", times.Select(t => t.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))} ms");
        // The figure to meet is 300 ms on an idle machine (docs/dashboard.md); the bound here is loose, for a loaded test machine.
        Assert.True(firstView < 2000, $"first view took {firstView:0} ms");

        site.WaitFor(() => site.Element("ul.attention li.attn-dead_jobs").Text.Contains("dead job", StringComparison.Ordinal), "the dead jobs called out");
        Assert.Equal(3, site.Browser.FindElements(By.CssSelector("svg.chart")).Count);
        site.Element("table.workers tr[data-worker]", "a worker row");
        site.WaitFor(() => site.Element("table.queues tr[data-queue='mail'] td.count-dead").Text == "2", "two dead jobs in mail");
        site.Screenshot("overview");
    }

    [Fact]
    public async Task Jobs_FilteredByState_LinksToTheJob()
    {
        var id = await site.SubmitAsync("""{"type":"fail","queue":"filters","payload":{"times":9},"max_attempts":1,"concurrency_key":"tenant-9","idempotency_key":"dash-9","unique_while":["queued","running"]}""");
        await site.WaitForStateAsync(id, "dead");
        site.Open("#/jobs?state=dead&queue=filters");
        site.Element($"table.jobs tr[data-job='{id}']", "the dead job's row");
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("table.jobs tr[data-job] .badge")).All(b => b.Text == "dead"), "only dead jobs");
        site.Screenshot("jobs");
        site.Click($"table.jobs tr[data-job='{id}'] a");
        site.WaitFor(() => site.Browser.Url.EndsWith($"#/jobs/{id}", StringComparison.Ordinal), "the job view");
        site.Element("section.attempt .error", "the attempt's error");
        Assert.Equal("tenant-9", site.Element("#job-concurrency-key", "the concurrency key").Text);
        Assert.Equal("dash-9 while queued or running", site.Element("#job-idempotency-key", "the idempotency key").Text);

        // The key links to its jobs in the queue: the list filtered by concurrency key, the filter filled in.
        var other = await site.SubmitAsync("""{"type":"echo","queue":"filters","concurrency_key":"tenant-8"}""");
        site.Click("#job-concurrency-key a");
        site.WaitFor(() => site.Browser.Url.EndsWith("#/jobs?queue=filters&concurrency_key=tenant-9", StringComparison.Ordinal), "the key's jobs");
        site.Element($"table.jobs tr[data-job='{id}']", "the key's job");
        Assert.Empty(site.Browser.FindElements(By.CssSelector($"table.jobs tr[data-job='{other}']")));
        Assert.Equal("tenant-9", site.Element("#job-filters input[name='concurrency_key']", "the key filter").GetDomProperty("value"));
    }

    [Fact]
    public async Task Job_ProgressBarMovesWithoutReload_ThenCancelAndRetry()
    {
        var id = await site.SubmitAsync("""{"type":"count","payload":{"to":400,"step_ms":50},"tags":{"team":"ui"}}""");
        await site.WaitForStateAsync(id, "running");
        site.WatchProgressMove(id);
        site.Screenshot("job");

        site.Click("button[data-action='copy-submit']");
        site.WaitFor(() => site.Element("code.cmd").Text.StartsWith("gantry submit count '{\"to\":400,\"step_ms\":50}'", StringComparison.Ordinal), "the gantry submit command");

        site.Click("button[data-action='cancel']");
        site.Element("#job-state [data-state='cancelled']", "the job cancelled");
        await site.WaitForStateAsync(id, "cancelled");
        site.Click("button[data-action='retry']");
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("#job-state [data-state='queued'], #job-state [data-state='running']")).Count > 0, "the job retried");
        await site.WaitForStateAsync(id, "queued", "running", "succeeded");
        Assert.Equal(42L, site.Browser.ExecuteScript("return window.__noReload;"));
    }

    [Fact]
    public async Task Job_ProcessHandlerAttempt_ShowsItsCpuMemoryAndHowItEnded()
    {
        var id = await site.SubmitAsync("""{"type":"burn","payload":{}}""");
        await site.WaitForStateAsync(id, "succeeded");
        site.Open($"#/jobs/{id}");
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("[data-usage='1']")) is { Count: 1 } found
            && found[0].Text.Contains("cpu ", StringComparison.Ordinal) && found[0].Text.Contains("peak memory", StringComparison.Ordinal)
            && found[0].Text.EndsWith("exited with code 0", StringComparison.Ordinal), "the attempt's usage line");
    }

    [Fact]
    public async Task Workflow_StepChangesColourWithoutReload_NodeOpensItsJob()
    {
        var response = await site.Http.PostAsync("/api/v1/workflows", new StringContent("""
            {"name":"etl","steps":{
              "extract":{"type":"sleep","payload":{"ms":1500}},
              "transform":{"type":"echo","payload":{"n":1},"depends_on":["extract"]},
              "load":{"type":"echo","payload":{"n":2},"depends_on":["transform"]},
              "report":{"type":"echo","payload":{"n":3},"depends_on":["extract"]}}}
            """, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        var id = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("id").GetString();
        site.Open($"#/workflows/{id}");
        var load = site.Element("svg.graph g.node[data-step='load']", "the load step");
        Assert.Equal("waiting", load.GetAttribute("data-state"));
        Assert.Equal(3, site.Browser.FindElements(By.CssSelector("svg.graph path.edge")).Count);
        site.Browser.ExecuteScript("window.__noReload = 7;");
        site.WaitFor(() => site.Browser.FindElement(By.CssSelector("svg.graph g.node[data-step='load']")).GetAttribute("data-state") == "succeeded", "the load step turning succeeded");
        Assert.Equal(7L, site.Browser.ExecuteScript("return window.__noReload;"));
        Assert.Contains("state-succeeded", site.Browser.FindElement(By.CssSelector("svg.graph g.node[data-step='load']")).GetAttribute("class"), StringComparison.Ordinal);
        site.Element("#workflow-state [data-state='succeeded']", "the workflow succeeded");
        site.Screenshot("workflow");
        site.Click("svg.graph g.node[data-step='extract']");
        site.WaitFor(() => site.Browser.Url.Contains("#/jobs/", StringComparison.Ordinal), "the step's job");
        site.Element("#job-workflow", "the link back to the workflow");
        site.Open("#/workflows");
        site.Element($"tr[data-workflow='{id}']", "the workflow in the list");
    }

    [Fact]
    public async Task Queue_PerKeyLimit_TheOverviewSaysWhichKeysItHoldsBack()
    {
        // The queue exists (a job due next year) before its limit, so that no job of the key starts before it holds.
        await site.SubmitAsync("""{"type":"echo","queue":"tenants","payload":{},"run_at":"2099-01-01T00:00:00Z"}""");
        using (var put = await site.Http.PutAsync("/api/v1/queues/tenants/limits", new StringContent("""{"per_key":1}""", Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        for (var i = 0; i < 3; i++) await site.SubmitAsync("""{"type":"sleep","queue":"tenants","payload":{"ms":20000},"concurrency_key":"acme"}""");
        site.Open("#/");
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("tr[data-queue='tenants'] .limits")).FirstOrDefault()?.Text is { } text
            && text.Contains("per key 1", StringComparison.Ordinal) && text.Contains("1 key at the limit", StringComparison.Ordinal), "the key its limit holds back");

        // Which key: the queue's keys held back, each linking to its jobs.
        site.Click("tr[data-queue='tenants'] a.keys-link");
        site.WaitFor(() => site.Browser.Url.EndsWith("#/queues/tenants/keys?at_limit=true", StringComparison.Ordinal), "the keys page");
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("table.keys tr[data-key='acme'] td")).Select(c => c.Text).ToArray() is ["acme", "2", "1", "at the limit"],
            "acme: 2 queued, 1 running, at the limit");
        Assert.Single(site.Browser.FindElements(By.CssSelector("table.keys tr[data-key]")));
        // Numbers' headers stand over them, on the right; text's on the left.
        Assert.Equal(["left", "right", "right"], site.Browser.FindElements(By.CssSelector("table.keys th")).Take(3).Select(th => th.GetCssValue("text-align")).ToArray());
        site.Screenshot("queue-keys");
        site.Click("table.keys tr[data-key='acme'] a");
        site.WaitFor(() => site.Browser.Url.EndsWith("#/jobs?queue=tenants&concurrency_key=acme", StringComparison.Ordinal), "the key's jobs");
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("table.jobs tr[data-job]")).Count == 3, "the key's three jobs");
    }

    [Fact]
    public async Task Queue_PausedAndResumedFromTheOverview()
    {
        await site.SubmitAsync("""{"type":"echo","queue":"pausable","payload":{}}""");
        site.Open("#/");
        site.Click("tr[data-queue='pausable'] button[data-action='pause-queue']", "the pause button");
        site.Element("tr[data-queue='pausable'] .badge.paused", "the paused badge");
        var queues = await site.GetAsync("/api/v1/queues");
        Assert.True(queues.EnumerateArray().Single(q => q.GetProperty("queue").GetString() == "pausable").GetProperty("paused").GetBoolean());
        site.Click("tr[data-queue='pausable'] button[data-action='resume-queue']", "the resume button");
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("tr[data-queue='pausable'] .badge.paused")).Count == 0, "the queue resumed");
    }

    [Fact]
    public void WorkersBulkAndAudit_Load()
    {
        site.Open("#/workers");
        site.Element("table.workers tr[data-worker] button[data-action='drain']", "a worker with its actions");
        site.Screenshot("workers");
        site.Open("#/bulk");
        site.Click("#bulk-form button[data-action='preview']");
        // Either the preview (the bulk endpoints present) or a clear "not available".
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("#bulk-preview, #bulk-result .notice")).Count > 0, "the bulk preview");
        site.Screenshot("bulk");
        site.Open("#/audit");
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("main table, main .notice, main p.muted")).Count > 0, "the audit log");
    }

    // The views of the endpoints the dashboard contract adds beside it (bulk actions, audit log). On a server without
    // them the views say they are not available (WorkersBulkAndAudit_Load); these act through them once the server has them.

    [Fact]
    public async Task Bulk_RetryDeadByFilter_PreviewThenProgressThenResult()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++) ids.Add(await site.SubmitAsync("""{"type":"fail","queue":"mail","payload":{"times":9},"max_attempts":1,"tags":{"bulk":"yes"}}"""));
        foreach (var id in ids) await site.WaitForStateAsync(id, "dead");
        site.Open("#/bulk");
        site.Element("#bulk-form input[name='queue']").SendKeys("mail");
        site.Element("#bulk-form input[name='type']").SendKeys("fail");
        site.Element("#bulk-form input[name='tags']").SendKeys("bulk=yes");
        site.Click("#bulk-form button[data-action='preview']");
        site.WaitFor(() => site.Element("#bulk-preview").Text.Contains("retry 3 dead jobs of type fail in queue mail", StringComparison.Ordinal), "the preview naming 3 jobs");
        site.Screenshot("bulk-preview");
        site.Click("button[data-action='confirm']");
        site.WaitFor(() => site.Element("#bulk-done").Text.Contains("Retried 3 jobs", StringComparison.Ordinal), "the result");
        site.Screenshot("bulk-done");
    }
    [Fact]
    public async Task Bulk_CancelOneKeysJobs_OthersStay()
    {
        static string Later(string key) => $$"""{"type":"echo","queue":"keyed-bulk","payload":{},"run_at":"2099-01-01T00:00:00Z","concurrency_key":"{{key}}"}""";
        var acme = new[] { await site.SubmitAsync(Later("acme")), await site.SubmitAsync(Later("acme")) };
        var beta = await site.SubmitAsync(Later("beta"));
        site.Open("#/bulk");
        site.Browser.ExecuteScript("document.querySelector(\"#bulk-form select[name='action']\").value = 'cancel'; document.querySelector(\"#bulk-form select[name='state']\").value = 'scheduled';");
        site.Element("#bulk-form input[name='queue']").SendKeys("keyed-bulk");
        site.Element("#bulk-form input[name='concurrency_key']").SendKeys("acme");
        site.Click("#bulk-form button[data-action='preview']");
        site.WaitFor(() => site.Element("#bulk-preview").Text.Contains("cancel 2 scheduled jobs in queue keyed-bulk with concurrency key acme", StringComparison.Ordinal), "the preview");
        site.Click("button[data-action='confirm']");
        site.WaitFor(() => site.Element("#bulk-done").Text.Contains("Cancelled 2 jobs", StringComparison.Ordinal), "the result");
        foreach (var id in acme) await site.WaitForStateAsync(id, "cancelled");
        await site.WaitForStateAsync(beta, "scheduled");
    }

    [Fact]
    public async Task Audit_ShowsWhoPausedAQueue()
    {
        await site.SubmitAsync("""{"type":"echo","queue":"audited","payload":{}}""");
        site.Open("#/");
        site.Click("tr[data-queue='audited'] button[data-action='pause-queue']");
        site.Element("tr[data-queue='audited'] .badge.paused", "the paused badge");
        site.Open("#/audit");
        site.WaitFor(() => site.Browser.FindElements(By.CssSelector("main table tbody tr")).Any(r => r.Text.Contains("loopback", StringComparison.Ordinal) && r.Text.Contains("audited", StringComparison.Ordinal)),
            "the pause in the audit log");
        site.Screenshot("audit");
    }
}
