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

#pragma warning disable SYSLIB1054 // A byte buffer needs no marshalling; LibraryImport would need unsafe code here.
    [DllImport("libSystem.Native", EntryPoint = "SystemNative_LStat")]
    private static extern int LStat(byte[] path, byte[] status);
#pragma warning restore SYSLIB1054
}
