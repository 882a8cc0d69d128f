using System.Runtime.InteropServices;

namespace Gantry.Worker.Links.Ipc;

/// <summary>
/// A managed worker dies with its node. The socket closing is the main signal; this asks Linux to
/// send SIGKILL when the parent goes (PR_SET_PDEATHSIG), in case the worker is stuck where it cannot
/// notice. No-op elsewhere.
/// </summary>
public static partial class ParentDeath
{
    private const int PrSetPdeathsig = 1;
    private const int SigKill = 9;

    /// <summary>Arms the signal; false when the parent is already gone (it is not <paramref name="expectedParent"/> any more).</summary>
    public static bool Arm(int expectedParent)
    {
        if (!OperatingSystem.IsLinux()) return true;
        _ = Prctl(PrSetPdeathsig, SigKill, 0, 0, 0);
        // The parent may have died before the call: then we were re-parented and no signal will come.
        return GetParentPid() == expectedParent;
    }

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentPid();
}
