namespace Gantry.Bench;

/// <summary>
/// CPU spent so far by the JIT's background threads (tiered compilation: ".NET Tiered Com…") of a set of
/// processes, read from /proc: how a benchmark that spans processes knows when all of them have settled.
/// Null where /proc is not there to read.
/// </summary>
internal static class JitActivity
{
    private const string ThreadName = ".NET Tiered Com";

    public static TimeSpan? CpuOf(IEnumerable<int> pids)
    {
        if (!Directory.Exists("/proc/self/task")) return null;
        long ticks = 0;
        foreach (var pid in pids)
        {
            string[] tasks;
            try { tasks = Directory.GetDirectories($"/proc/{pid}/task"); }
            catch (IOException) { continue; } // the process has gone
            catch (UnauthorizedAccessException) { continue; }
            foreach (var task in tasks)
            {
                try
                {
                    if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(ThreadName, StringComparison.Ordinal)) continue;
                    // Fields after the parenthesised name: state is field 3, utime 14 and stime 15 (in clock ticks).
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    ticks += long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (IOException) { } // the thread has gone
            }
        }
        return TimeSpan.FromSeconds(ticks / (double)TicksPerSecond);
    }

    /// <summary>USER_HZ: 100 on every Linux this runs on.</summary>
    private const int TicksPerSecond = 100;
}
