using System.Globalization;
using Gantry.Worker.Isolation;

namespace Gantry.Worker.Handlers.Process;

/// <summary>
/// The command line that starts one attempt's program. <c>setpriv --pdeathsig KILL</c> arms the
/// parent-death signal (SIGKILL when the worker process dies: exec keeps it, so the program has it
/// too); a small shell then checks that the worker was still its parent once it was armed, joins
/// the sandbox with its own pid (no child can be born outside the cgroup) and execs
/// <c>setsid</c> (a session of its own, so the tree is signalled as one group), <c>prlimit</c>
/// where limits are rlimits, and the program. The command's words are arguments, never shell text.
/// </summary>
internal static class ProcessLauncher
{
    /// <summary>The launcher's exit code when it could not join the sandbox, or its worker was gone before it started.</summary>
    public const int CouldNotStart = 125;

    private const string Script =
        "[ \"$PPID\" = \"$1\" ] || exit 125; shift; " +
        "while [ \"$1\" != -- ]; do echo $$ > \"$1\" || exit 125; shift; done; shift; exec \"$@\"";

    /// <summary>setpriv, where it knows --pdeathsig (util-linux 2.33 and later); null elsewhere: the sweep of dead owners' cgroups is then the only guard.</summary>
    private static readonly Lazy<string?> Setpriv = new(FindSetpriv);

    /// <summary>The program to start and its argv (argv[0] included).</summary>
    public static (string Path, List<string> Argv) Command(IJobSandbox sandbox, IReadOnlyList<string> command)
    {
        var argv = new List<string>();
        string path;
        if (Setpriv.Value is { } setpriv)
        {
            path = setpriv;
            argv.AddRange([setpriv, "--pdeathsig", "KILL", "--", "/bin/sh"]);
        }
        else
        {
            path = "/bin/sh";
            argv.Add("/bin/sh");
        }
        argv.AddRange(["-c", Script, "gantry-job", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)]);
        argv.AddRange(sandbox.JoinFiles);
        argv.AddRange(["--", "setsid"]);
        if (sandbox.RlimitArgs.Count > 0)
        {
            argv.Add("prlimit");
            argv.AddRange(sandbox.RlimitArgs);
            argv.Add("--");
        }
        argv.AddRange(command);
        return (path, argv);
    }

    private static string? FindSetpriv()
    {
        foreach (var candidate in new[] { "/usr/bin/setpriv", "/bin/setpriv" })
        {
            if (!File.Exists(candidate)) continue;
            try
            {
                using var probe = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(candidate)
                {
                    ArgumentList = { "--pdeathsig", "KILL", "--", "/bin/true" },
                    RedirectStandardError = true,
                    UseShellExecute = false,
                });
                if (probe is null) continue;
                probe.StandardError.ReadToEnd();
                probe.WaitForExit();
                if (probe.ExitCode == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
        }
        return null;
    }
}
