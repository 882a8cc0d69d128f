namespace Gantry.Worker.Isolation;

/// <summary>Small file operations on cgroup filesystems, tolerant of a cgroup vanishing under them.</summary>
internal static class CgroupFiles
{
    public static bool TryWrite(string path, string value)
    {
        try
        {
            File.WriteAllText(path, value);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Can a child cgroup be made (and removed) under <paramref name="dir"/>?</summary>
    public static bool CanCreateUnder(string dir)
    {
        var probe = Path.Combine(dir, $"gantry-probe-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The value of <paramref name="key"/> in a flat keyed file (memory.events, memory.oom_control).</summary>
    public static long KeyedValue(string path, string key)
    {
        foreach (var line in Read(path).Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], out var v)) return v;
        }
        return 0;
    }

    /// <summary>The value of <paramref name="key"/> in a flat keyed file; null when the file or the key is not there.</summary>
    public static long? KeyedValueOrNull(string path, string key)
    {
        foreach (var line in Read(path).Split('\n'))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && parts[0] == key && long.TryParse(parts[1], out var v)) return v;
        }
        return null;
    }

    /// <summary>A file holding one number (memory.peak, cpuacct.usage); null when it is not there.</summary>
    public static long? NumberOrNull(string path) => long.TryParse(Read(path).Trim(), out var v) ? v : null;

    /// <summary>Removes an empty cgroup; false when it is not empty or cannot be removed.</summary>
    public static bool TryRemove(string dir)
    {
        try
        {
            Directory.Delete(dir);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>SIGKILLs the processes listed in a cgroup.procs file until it is empty (a second at most), then removes the cgroup.</summary>
    public static void KillAndRemove(string dir)
    {
        var procs = Path.Combine(dir, "cgroup.procs");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(1);
        while (true)
        {
            var pids = Read(procs).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (pids.Length == 0 || DateTime.UtcNow > deadline) break;
            foreach (var pid in pids)
                if (int.TryParse(pid, out var p)) PosixSignals.ToProcess(p, PosixSignals.SigKill);
            Thread.Sleep(1);
        }
        for (var wait = 1; wait < 512; wait *= 2)
        {
            try
            {
                if (Directory.Exists(dir)) Directory.Delete(dir);
                return;
            }
            catch (IOException)
            {
                Thread.Sleep(wait); // The kernel frees the cgroup a moment after its last process.
            }
            catch (UnauthorizedAccessException)
            {
                return;
            }
        }
    }
}
