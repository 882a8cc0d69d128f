using System.Runtime.InteropServices;

namespace Gantry.Worker.Isolation;

/// <summary>POSIX signals to processes and process groups.</summary>
internal static partial class PosixSignals
{
    public const int SigTerm = 15;
    public const int SigKill = 9;
    /// <summary>What the kernel sends a process over its CPU-time rlimit.</summary>
    public const int SigXcpu = 24;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Signals every process in the group led by <paramref name="pgid"/>.</summary>
    public static void ToGroup(int pgid, int signal) => Kill(-pgid, signal);

    public static void ToProcess(int pid, int signal) => Kill(pid, signal);
}
