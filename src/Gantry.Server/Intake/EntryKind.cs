using System.Runtime.InteropServices;
using System.Text;

namespace Gantry.Server.Intake;

/// <summary>What a name in the drop folder is, without following a symbolic link.</summary>
internal enum EntryKind
{
    Missing,
    RegularFile,
    Directory,
    SymbolicLink,
    /// <summary>A FIFO, socket or device: reading one could block for good.</summary>
    Special,
}

internal static class EntryKinds
{
    /// <summary>Looks at the entry itself (lstat): a link is a link even when its target is a regular file.</summary>
    public static EntryKind Of(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            var info = new FileInfo(path);
            return info.LinkTarget is not null ? EntryKind.SymbolicLink
                : System.IO.Directory.Exists(path) ? EntryKind.Directory
                : info.Exists ? EntryKind.RegularFile : EntryKind.Missing;
        }
        // The runtime's own lstat (the same struct on every Unix and architecture); its Mode carries the file type bits.
        var status = new byte[256];
        if (LStat(Encoding.UTF8.GetBytes(path + "\0"), status) != 0) return EntryKind.Missing;
        return (BitConverter.ToInt32(status, 4) & 0xF000) switch
        {
            0x8000 => EntryKind.RegularFile,
            0x4000 => EntryKind.Directory,
            0xA000 => EntryKind.SymbolicLink,
            _ => EntryKind.Special,
        };
    }

    public static string Describe(EntryKind kind) => kind switch
    {
        EntryKind.Directory => "is a directory, not a file",
        EntryKind.SymbolicLink => "is a symbolic link: only regular files inside the folder are read, never what a link points to",
        EntryKind.Special => "is not a regular file (a FIFO, socket or device), which could block the folder for good",
        _ => "is missing",
    };

    /// <summary>
    /// Moves the entry itself to <paramref name="to"/>, which must not exist: false when it does or the entry is gone.
    /// A link or a FIFO is renamed, never opened nor followed (File.Move refuses a link whose target is missing, so such
    /// a link would stay in the folder for good).
    /// </summary>
    public static bool Move(string from, string to, EntryKind kind)
    {
        try
        {
            if (kind == EntryKind.Directory) System.IO.Directory.Move(from, to);
            else if (kind == EntryKind.RegularFile || OperatingSystem.IsWindows()) File.Move(from, to, overwrite: false);
            else return Of(to) == EntryKind.Missing && Rename(Encoding.UTF8.GetBytes(from + "\0"), Encoding.UTF8.GetBytes(to + "\0")) == 0;
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

#pragma warning disable SYSLIB1054 // A byte buffer needs no marshalling; LibraryImport would need unsafe code here.
    [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat")]
    private static extern int LStat(byte[] path, byte[] status);

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Rename")]
    private static extern int Rename(byte[] oldPath, byte[] newPath);
#pragma warning restore SYSLIB1054
}
