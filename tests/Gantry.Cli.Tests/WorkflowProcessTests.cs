using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>Workflows end to end with real `gantry` processes: submit, run, show, failure, bad input.</summary>
public sealed class WorkflowProcessTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<(int ExitCode, string Stdout, string Stderr)> GantryAsync(params string[] args) =>
        GantryProcess.RunAsync(_dir.Path, null, [.. args, "--db", _dir.Db]);

    private string Write(string name, string text)
    {
        File.WriteAllText(_dir.File(name), text);
        return _dir.File(name);
    }

    [Fact]
    public async Task SubmitWorkflow_Runs_ShowDrawsTheGraphWithEveryStepSucceeded()
    {
        // The sample in the repository, as the README's tour uses it.
        var flow = Path.Combine(Path.GetDirectoryName(GantryProcess.CliPath)!, "..", "..", "..", "..", "samples", "workflows", "fan-in.json");
        await using var run = QuickRun.Start(_dir);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        var (code, stdout, stderr) = await GantryAsync("submit", "--workflow", flow, "--json");
        Assert.True(code == 0, stderr);
        using var submitted = JsonDocument.Parse(stdout);
        var id = submitted.RootElement.GetProperty("id").GetString()!;
        Assert.Equal(5, submitted.RootElement.GetProperty("steps").GetArrayLength());

        (code, stdout, stderr) = await GantryAsync("workflows", "show", id, "--wait");
        Assert.True(code == 0, stderr);
        Assert.Contains("state       succeeded (5 steps, 5 succeeded)", stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^fetch\s+✓ succeeded", stdout);
        Assert.Matches(@"(?m)^└─▶ double\s+✓ succeeded .*◀ fetch$", stdout);
        Assert.Matches(@"(?m)^    └─▶ merge\s+✓ succeeded .*◀ double, square, count$", stdout);

        (code, stdout, _) = await GantryAsync("workflows", "show", id, "--json");
        Assert.Equal(0, code);
        using var shown = JsonDocument.Parse(stdout);
        Assert.All(shown.RootElement.GetProperty("steps").EnumerateArray(), s => Assert.Equal("succeeded", s.GetProperty("state").GetString()));

        (code, stdout, _) = await GantryAsync("workflows", "list", "--state", "succeeded");
        Assert.Equal(0, code);
        Assert.Contains(id, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SubmitWorkflowWait_StepDies_DownstreamCancelledAndExitCode3()
    {
        var flow = Write("flow.json", """
            {"name":"breaks","steps":{
              "ok":{"type":"echo"},
              "boom":{"type":"fail","payload":{"times":5},"max_attempts":1,"depends_on":["ok"]},
              "after":{"type":"echo","depends_on":["boom"]}}}
            """);
        await using var run = QuickRun.Start(_dir);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        var (code, stdout, stderr) = await GantryAsync("submit", "--workflow", flow, "--wait");

        Assert.True(code == 3, $"exit {code}: {stderr}");
        Assert.Contains("state       failed", stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^└─▶ boom\s+✗ dead", stdout);
        Assert.Matches(@"(?m)^    └─▶ after\s+⊘ cancelled", stdout);
    }

    [Fact]
    public async Task SubmitWorkflow_Cycle_OneLineExit1AndNothingStored()
    {
        var flow = Write("loop.json", """
            {"name":"loop","steps":{"a":{"type":"echo","depends_on":["c"]},"b":{"type":"echo","depends_on":["a"]},"c":{"type":"echo","depends_on":["b"]}}}
            """);

        var (code, stdout, stderr) = await GantryAsync("submit", "--workflow", flow);

        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("gantry: loop.json steps: cycle: a → b → c → a (a step cannot depend on itself, directly or through others)", stderr.Trim());
        Assert.False(File.Exists(_dir.Db));
    }

    [Fact]
    public async Task SubmitWorkflow_UnknownDependency_OneLineNamingIt()
    {
        var flow = Write("flow.json", """{"name":"n","steps":{"a":{"type":"echo"},"b":{"type":"echo","depends_on":["x"]}}}""");

        var (code, _, stderr) = await GantryAsync("submit", "--workflow", flow);

        Assert.Equal(1, code);
        Assert.Equal("gantry: flow.json steps.b.depends_on: unknown step 'x' (steps: a, b)", stderr.Trim());
    }
}
