using Gantry.Storage;

namespace Gantry.Cli.Tests;

/// <summary>The handler sample of docs/handlers.md runs as written, beside `gantry run`.</summary>
public sealed class SampleTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task HelloHandlers_WorkerRegistered_SubmitKnowsGreetAndRunsIt()
    {
        await using var run = GantryProcess.Start(_dir.Path, "run", "--db", _dir.Db);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        await using var sample = GantryProcess.StartDll(_dir.Path, GantryProcess.Built("HelloHandlers", "HelloHandlers.dll"), _dir.Db);

        var deadline = DateTime.UtcNow + Generous;
        while (!(await StoreProbe.WithStoreAsync(_dir.Db, s => s.JobTypesServedAsync(CancellationToken.None))).Contains("greet"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the sample worker did not register; output:\n" + sample.Output);
            await Task.Delay(200);
        }

        var (code, stdout, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "greet", "{\"name\":\"Ada\",\"times\":2}", "--wait", "--db", _dir.Db);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("succeeded on attempt 1: {\"greeting\":\"Hello, Ada!\",\"attempt\":1}", stdout, StringComparison.Ordinal);

        (code, _, stderr) = await GantryProcess.RunAsync(_dir.Path, null, "submit", "greet", "{\"name\":\"\"}", "--max-attempts", "1", "--wait", "--db", _dir.Db);
        Assert.Equal(3, code);
    }
}
