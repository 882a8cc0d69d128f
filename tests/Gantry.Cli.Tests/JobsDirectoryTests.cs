using System.Text.Json;

namespace Gantry.Cli.Tests;

/// <summary>`--jobs-dir`: documents dropped in a folder are submitted, filed as accepted or rejected, and their results written.</summary>
public sealed class JobsDirectoryTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DroppedDocuments_AcceptedRejectedAndResultsWritten()
    {
        var jobs = Path.Combine(_dir.Path, "jobs");
        Directory.CreateDirectory(jobs);
        // One written before start (picked up at start), the others while it runs, written elsewhere and moved in as a writer should.
        await File.WriteAllTextAsync(Path.Combine(jobs, "early.json"), """{"type":"echo","payload":{"n":1}}""");
        await using var run = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db, "--jobs-dir", jobs, "--listen", "off"], []);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        Assert.Contains("jobs dir", run.Stdout, StringComparison.Ordinal);

        await DropAsync(jobs, "batch.json", """[{"type":"echo","payload":{"n":2}},{"type":"fail","max_attempts":1}]""");
        await DropAsync(jobs, "typo.json", """{"type":"echo","paylod":{}}""");
        await DropAsync(jobs, "unknown.json", """{"type":"no-such-type"}""");

        var results = Path.Combine(jobs, "results");
        await WaitUntilAsync(() => Directory.Exists(results) && Directory.GetFiles(results, "*.json").Length == 3, run);
        await WaitUntilAsync(() => File.Exists(Path.Combine(jobs, "rejected", "unknown.json")), run);

        // All of early's jobs succeeded; one of batch's ended dead.
        await WaitUntilAsync(() => File.Exists(Path.Combine(jobs, "done", "early.json")) && File.Exists(Path.Combine(jobs, "failed", "batch.json")), run);
        Assert.Empty(Directory.GetFiles(Path.Combine(jobs, "accepted")));
        Assert.Empty(Directory.GetFiles(jobs, "*.json"));
        var typo = await File.ReadAllTextAsync(Path.Combine(jobs, "rejected", "typo.json.error.txt"));
        Assert.Contains("typo.json", typo, StringComparison.Ordinal);
        Assert.Contains("paylod", typo, StringComparison.Ordinal);
        Assert.Contains("unknown job type 'no-such-type'", await File.ReadAllTextAsync(Path.Combine(jobs, "rejected", "unknown.json.error.txt")), StringComparison.Ordinal);

        var outcomes = Directory.GetFiles(results, "*.json").Select(f => JsonDocument.Parse(File.ReadAllText(f)).RootElement).ToArray();
        Assert.All(outcomes, o => Assert.Equal(o.GetProperty("id").GetString() + ".json", Path.GetFileName(Directory.GetFiles(results, o.GetProperty("id").GetString() + ".json").Single())));
        Assert.Equal(2, outcomes.Count(o => o.GetProperty("state").GetString() == "succeeded"));
        var dead = Assert.Single(outcomes, o => o.GetProperty("state").GetString() == "dead");
        Assert.Equal("fail", dead.GetProperty("type").GetString());
        Assert.NotEmpty(dead.GetProperty("errors").EnumerateArray());
        Assert.Contains(outcomes, o => o.GetProperty("state").GetString() == "succeeded" && o.GetProperty("result").GetProperty("n").GetInt32() == 2);
    }

    [Fact]
    public async Task SameFileSubmittedAgain_AfterACrash_GivesBackTheSameJobs()
    {
        var jobs = Path.Combine(_dir.Path, "jobs");
        Directory.CreateDirectory(Path.Combine(jobs, ".processing"));
        // A crash after the store took the jobs but before the file moved leaves it in .processing; a copy dropped again is the same case.
        const string doc = """{"type":"echo","payload":{"once":true}}""";
        await File.WriteAllTextAsync(Path.Combine(jobs, "once.json"), doc);
        await using (var first = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db, "--jobs-dir", jobs, "--listen", "off"], []))
        {
            await first.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
            await WaitUntilAsync(() => File.Exists(Path.Combine(jobs, "done", "once.json")), first);
            await File.WriteAllTextAsync(Path.Combine(jobs, ".processing", "once.json"), doc);
            first.Signal(GantryProcess.SigTerm);
            await first.WaitForExitAsync(Generous);
        }
        await using var second = GantryProcess.StartDll(_dir.Path, GantryProcess.CliPath, ["run", "--db", _dir.Db, "--jobs-dir", jobs, "--listen", "off"], []);
        await second.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        await WaitUntilAsync(() => !File.Exists(Path.Combine(jobs, ".processing", "once.json")), second);

        var (code, stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "list", "--json", "--db", _dir.Db);
        Assert.Equal(0, code);
        Assert.Equal(1, JsonDocument.Parse(stdout).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task BadEntries_AreRejectedWithTheirReason_AndTheIntakeGoesOn()
    {
        var jobs = Path.Combine(_dir.Path, "jobs");
        var processing = Path.Combine(jobs, ".processing");
        Directory.CreateDirectory(processing);
        // A crash left a dangling link in .processing: the next start must deal with it, not stop (it used to, with exit 0).
        File.CreateSymbolicLink(Path.Combine(processing, "left.json"), Path.Combine(_dir.Path, "gone.json"));
        // Links to a folder outside (File.Move refuses to move those): one there at start, one dropped later.
        var folder = Path.Combine(_dir.Path, "elsewhere");
        Directory.CreateDirectory(folder);
        File.CreateSymbolicLink(Path.Combine(jobs, "nowhere.json"), folder);
        await using var run = GantryProcess.Start(_dir.Path, "run", "--db", _dir.Db, "--jobs-dir", jobs, "--listen", "off");
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        // Outside the folder: a link to it must not be followed (its content would be submitted).
        var outside = Path.Combine(_dir.Path, "outside.json");
        await File.WriteAllTextAsync(outside, """{"type":"echo","payload":{"secret":"outside"}}""");
        File.CreateSymbolicLink(Path.Combine(jobs, "link.json"), outside);
        File.CreateSymbolicLink(Path.Combine(jobs, "dangling.json"), Path.Combine(_dir.Path, "nothing-here.json"));
        File.CreateSymbolicLink(Path.Combine(jobs, "later.json"), folder);
        Directory.CreateDirectory(Path.Combine(jobs, "folder.json"));
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", Path.Combine(jobs, "pipe.json"))) await mkfifo.WaitForExitAsync();
        using (var huge = File.Create(Path.Combine(jobs, "huge.json"))) huge.SetLength(64L * 1024 * 1024); // Sparse: costs no disk.
        await DropAsync(jobs, "good.json", """{"type":"echo","payload":{"n":1}}""");
        await DropAsync(jobs, "bad.json", """{"type":"fail","max_attempts":1}""");

        var rejected = Path.Combine(jobs, "rejected");
        string Reason(string name) => File.ReadAllText(Path.Combine(rejected, name + ".error.txt"));
        await WaitUntilAsync(() => File.Exists(Path.Combine(jobs, "done", "good.json")) && File.Exists(Path.Combine(jobs, "failed", "bad.json")), run);
        foreach (var name in new[] { "left.json", "link.json", "dangling.json", "nowhere.json", "later.json", "folder.json", "pipe.json", "huge.json" })
            await WaitUntilAsync(() => File.Exists(Path.Combine(rejected, name + ".error.txt")), run);
        Assert.Contains("symbolic link", Reason("left.json"), StringComparison.Ordinal);
        Assert.Contains("symbolic link", Reason("link.json"), StringComparison.Ordinal);
        Assert.Contains("symbolic link", Reason("dangling.json"), StringComparison.Ordinal);
        Assert.Contains("symbolic link", Reason("nowhere.json"), StringComparison.Ordinal);
        Assert.Contains("symbolic link", Reason("later.json"), StringComparison.Ordinal);
        Assert.Contains("directory", Reason("folder.json"), StringComparison.Ordinal);
        Assert.Contains("not a regular file", Reason("pipe.json"), StringComparison.Ordinal);
        Assert.Contains("bytes, over", Reason("huge.json"), StringComparison.Ordinal);
        Assert.True(File.Exists(outside), "the target of a link is left alone");
        Assert.Empty(Directory.GetFileSystemEntries(processing));
        Assert.Empty(Directory.GetFiles(Path.Combine(jobs, "accepted")));

        // Exactly the two real documents were submitted; the process is still up, and stops cleanly.
        var (code, stdout, _) = await GantryProcess.RunAsync(_dir.Path, null, "jobs", "list", "--json", "--db", _dir.Db);
        Assert.Equal(0, code);
        Assert.Equal(2, JsonDocument.Parse(stdout).RootElement.GetArrayLength());
        Assert.DoesNotContain("outside", stdout, StringComparison.Ordinal);
        Assert.False(run.HasExited, run.Output);
        run.Signal(GantryProcess.SigTerm);
        Assert.Equal(0, await run.WaitForExitAsync(Generous));
    }

    [Fact]
    public async Task UnreadableFile_IsRejected()
    {
        if (OperatingSystem.IsWindows()) return;
        var jobs = Path.Combine(_dir.Path, "jobs");
        Directory.CreateDirectory(jobs);
        string[] args = ["run", "--db", _dir.Db, "--jobs-dir", jobs, "--listen", "off"];
        // Root reads a file of mode 000 all the same: as root, the server runs as nobody in a folder it may write.
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_111_111);
            File.SetUnixFileMode(jobs, (UnixFileMode)0b111_111_111);
        }
        await using var run = asRoot
            ? GantryProcess.StartProgram(_dir.Path, "setpriv",
                ["--reuid=65534", "--regid=65534", "--clear-groups", "env", "-u", "GANTRY_STORE", "-u", "GANTRY_DB", "-u", "GANTRY_TOKENS",
                 $"HOME={_dir.Path}", "DOTNET_NOLOGO=1", "dotnet", GantryProcess.CliPath, .. args])
            : GantryProcess.Start(_dir.Path, args);
        await run.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        var temporary = Path.Combine(jobs, ".secret.tmp");
        await File.WriteAllTextAsync(temporary, """{"type":"echo"}""");
        File.SetUnixFileMode(temporary, UnixFileMode.None);
        File.Move(temporary, Path.Combine(jobs, "secret.json"));
        await WaitUntilAsync(() => File.Exists(Path.Combine(jobs, "rejected", "secret.json.error.txt")), run);
        Assert.Contains("cannot be read", await File.ReadAllTextAsync(Path.Combine(jobs, "rejected", "secret.json.error.txt")), StringComparison.Ordinal);
        Assert.False(run.HasExited, run.Output);
    }

    private static async Task DropAsync(string dir, string name, string text)
    {
        var temporary = Path.Combine(dir, "." + name + ".tmp");
        await File.WriteAllTextAsync(temporary, text);
        File.Move(temporary, Path.Combine(dir, name));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, GantryProcess process)
    {
        var deadline = DateTime.UtcNow + Generous;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the jobs folder was not processed in time. Output:\n" + process.Output);
            await Task.Delay(100);
        }
    }
}
