namespace Gantry.Node.Ipc;

/// <summary>The node's own directory for its socket: made 0700, and never a link somebody else could have planted.</summary>
internal static class PrivateDirectory
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static void Make(string path)
    {
        var parent = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(parent)) Directory.CreateDirectory(parent);
        var info = new DirectoryInfo(path);
        if (info.LinkTarget is not null)
            throw new GantryException($"{path} is a symbolic link; the node makes a directory of its own there (remove the link, or give another --run-dir)");
        if (File.Exists(path)) throw new GantryException($"{path} is a file; the node makes a directory of its own there (remove it, or give another --run-dir)");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        if (!info.Exists) Directory.CreateDirectory(path, OwnerOnly);
        try
        {
            // Left by an earlier run of this user's node: private again, whatever was done to it since.
            File.SetUnixFileMode(path, OwnerOnly);
        }
        catch (UnauthorizedAccessException)
        {
            throw new GantryException($"{path} belongs to another user; give this node another --run-dir");
        }
    }
}
