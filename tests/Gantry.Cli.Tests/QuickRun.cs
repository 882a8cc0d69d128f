namespace Gantry.Cli.Tests;

/// <summary>`gantry run` and `gantry submit` on a test's own SQLite file, shared by the process tests.</summary>
internal static class QuickRun
{
    /// <summary>`gantry run` with short leases and intervals, so a lost worker is noticed in seconds.</summary>
    public static GantryProcess Start(TempDir dir, params string[] extra) => GantryProcess.Start(dir.Path,
        ["run", "--db", dir.Db, "--lease-duration", "4s", "--heartbeat-interval", "500ms", "--rescue-interval", "500ms", "--poll-interval", "50ms", .. extra]);

    /// <summary>`gantry submit …`; returns the (first) job id and fails the test when the command fails.</summary>
    public static async Task<Guid> SubmitAsync(TempDir dir, params string[] args)
    {
        var (code, stdout, stderr) = await GantryProcess.RunAsync(dir.Path, null, ["submit", .. args, "--db", dir.Db]);
        Assert.True(code == 0, $"submit failed ({code}): {stderr}");
        return Guid.Parse(stdout.Trim().Split('\n')[0].Trim());
    }
}
