using Gantry.Worker.Isolation;

namespace Gantry.Worker.Tests.Process;

/// <summary>The sweep of attempt cgroups on the machine's real cgroups: what a dead owner left is killed and removed, a live owner's is not touched.</summary>
public sealed class CgroupSweepTests
{
    private const string Pids = "/sys/fs/cgroup/pids/gantry";

    private static System.Diagnostics.Process Sleeper() =>
        System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;

    private static string MakeCgroup(string name, int pid)
    {
        var dir = Path.Combine(Pids, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "cgroup.procs"), pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return dir;
    }

    [Fact]
    public async Task Sweep_DeadOwnersCgroupKilledAndRemoved_LiveOwnersLeftAlone()
    {
        Assert.False(ProcessIsolation.IsDegraded, $"this machine kind has writable cgroups; isolation is {ProcessIsolation.Description}");
        var factory = SandboxFactory.Current;
        var self = CgroupOwner.Self.Split('.');
        using var orphan = Sleeper();
        using var running = Sleeper();
        // This pid with another start time: the process that owned it is gone (the pid was reused).
        var dead = MakeCgroup($"{self[0]}.1.{self[2]}-{Guid.NewGuid():N}-1", orphan.Id);
        var live = MakeCgroup(CgroupOwner.AttemptName(Guid.NewGuid(), 1), running.Id);
        try
        {
            Assert.True(factory.Sweep() >= 1);

            Assert.True(orphan.WaitForExit(TimeSpan.FromSeconds(10)), "the dead owner's process is still running");
            Assert.False(Directory.Exists(dead), "the dead owner's cgroup was not removed");
            Assert.False(running.HasExited);
            Assert.True(Directory.Exists(live), "a live owner's cgroup was removed");
        }
        finally
        {
            running.Kill();
            await running.WaitForExitAsync();
            CgroupFiles.KillAndRemove(live);
        }
    }

    [Fact]
    public void SweepBeforeAnAttempt_EarlierAttemptOfTheSameJobLeftBehind_SweptEvenRightAfterAnotherSweep()
    {
        Assert.False(ProcessIsolation.IsDegraded, $"this machine kind has writable cgroups; isolation is {ProcessIsolation.Description}");
        var factory = SandboxFactory.Current;
        var self = CgroupOwner.Self.Split('.');
        var job = Guid.NewGuid();
        factory.SweepDeadOwners(Guid.NewGuid()); // A sweep just now: the next one would wait a second.
        using var orphan = Sleeper();
        var dead = MakeCgroup($"{self[0]}.1.{self[2]}-{job:N}-1", orphan.Id);

        factory.SweepDeadOwners(job); // Attempt 2 of the job, retried at once after its worker was lost.

        Assert.True(orphan.WaitForExit(TimeSpan.FromSeconds(10)), "attempt 1's process is still running");
        Assert.False(Directory.Exists(dead));
    }
}
