using System.Globalization;

namespace Gantry.Worker.Isolation;

/// <summary>
/// Names an attempt's cgroup after the process that owns it: <c>{pid}.{start}.{pidns}-{job}-{attempt}</c>,
/// where start is the owner's start time in clock ticks (a reused pid is another process) and pidns
/// its pid namespace (a pid means nothing in another one). Whoever finds a cgroup whose owner is
/// gone knows that whatever still runs there belongs to nobody.
/// </summary>
internal static class CgroupOwner
{
    // Before Self: its tag includes the namespace.
    private static readonly string? Namespace = PidNamespace();

    /// <summary>This process, as it appears in the names of the cgroups it makes.</summary>
    public static string Self { get; } = Tag(Environment.ProcessId) ?? $"{Environment.ProcessId}.0.0";

    public static string AttemptName(Guid jobId, int attempt) => $"{Self}-{jobId:N}-{attempt.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>What is known of the owner of the cgroup <paramref name="name"/>.</summary>
    public static OwnerState StateOf(string name)
    {
        var dash = name.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0) return OwnerState.Unknown;
        var owner = name[..dash];
        if (owner == Self) return OwnerState.Alive;
        var parts = owner.Split('.');
        if (parts.Length != 3 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _) || !ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            return OwnerState.Unknown; // Not named by an owner (an older version's cgroup, or not ours at all).
        if (Namespace is null || parts[2] != Namespace) return OwnerState.Unknown;
        return Tag(pid) == owner ? OwnerState.Alive : OwnerState.Dead;
    }

    /// <summary>The tag of process <paramref name="pid"/> now, or null when there is no such process.</summary>
    private static string? Tag(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        // The command name may hold spaces and parentheses: fields are counted after its last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // Field 22 (starttime) is the 20th after the name; field 3 (state) 'Z' is a zombie: dead, not yet reaped.
        if (fields.Length < 20 || fields[0] == "Z") return null;
        return $"{pid.ToString(CultureInfo.InvariantCulture)}.{fields[19]}.{Namespace ?? "0"}";
    }

    private static string? PidNamespace()
    {
        try
        {
            // "pid:[4026531836]"
            var link = new FileInfo("/proc/self/ns/pid").LinkTarget;
            var digits = new string((link ?? "").Where(char.IsAsciiDigit).ToArray());
            return digits.Length > 0 ? digits : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

internal enum OwnerState
{
    Alive,
    Dead,
    /// <summary>The name does not say, or says it in a way that cannot be checked here.</summary>
    Unknown,
}
