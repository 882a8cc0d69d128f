namespace Gantry.Dashboard.Tests;

/// <summary>The dashboard of a <c>gantry run</c> on PostgreSQL in a real browser: the overview's counts (kept by the
/// store's own counting there) and a job page whose progress bar moves without a reload.</summary>
public sealed class PostgresDashboardTests(PostgresSite site) : IClassFixture<PostgresSite>
{
    [Fact]
    public async Task Overview_CountsAndDeadJobs_ThenAJobsProgressBarMovesWithoutReload()
    {
        var dead = await site.SubmitAsync("""{"type":"fail","queue":"mail","payload":{"times":9},"max_attempts":1}""");
        await site.SubmitAsync("""{"type":"echo","queue":"mail","payload":{"hello":"postgres"}}""");
        await site.WaitForStateAsync(dead, "dead");
        site.Open("#/");
        site.WaitFor(() => site.Element("table.queues tr[data-queue='mail'] td.count-dead").Text == "1", "one dead job in mail");
        site.WaitFor(() => site.Element("ul.attention li.attn-dead_jobs").Text.Contains("dead job", StringComparison.Ordinal), "the dead jobs called out");
        site.Element("table.workers tr[data-worker]", "a worker row");
        site.Screenshot("postgres-overview");

        var id = await site.SubmitAsync("""{"type":"count","payload":{"to":400,"step_ms":50}}""");
        await site.WaitForStateAsync(id, "running");
        site.WatchProgressMove(id);
        site.Screenshot("postgres-job");
        site.Click("button[data-action='cancel']");
        await site.WaitForStateAsync(id, "cancelled");
    }
}
