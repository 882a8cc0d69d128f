using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Gantry.Worker.Isolation;

/// <summary>
/// How a child ended: by an exit code, or by a signal (never both); with the kernel's accounting of
/// it and the descendants it waited for (CPU time, largest resident set), where the wait gave it.
/// </summary>
internal readonly record struct ExitStatus(int? Code, int? Signal, double? CpuSeconds = null, long? MaxRssBytes = null)
{
    public bool Succeeded => Code == 0;

    public override string ToString() =>
        Signal is { } s ? $"was killed by signal {s}" : Code is { } c ? $"exited with code {c}" : "ended (its exit status could not be read)";
}

/// <summary>
/// A child process started with posix_spawn rather than <see cref="System.Diagnostics.Process"/>, for
/// two things that class cannot give. The wait status as the kernel tells it: Process reports a
/// signal as 128+n, so <c>exit 255</c> and a SIGKILL at 137 could not be told from an exit code.
/// And a parent that lives exactly as long as the child: Linux ties a parent-death signal to the
/// <em>thread</em> that forked, so the child is spawned by a thread of its own that then waits for it,
/// and the signal fires only when the whole process dies. Linux only.
/// </summary>
internal sealed unsafe partial class ChildProcess : IDisposable
{
    private readonly TaskCompletionSource<ExitStatus> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(int pid, int stdin, int stdout, int stderr)
    {
        Pid = pid;
        StandardInput = new AnonymousPipeClientStream(PipeDirection.Out, new SafePipeHandle(stdin, ownsHandle: true));
        StandardOutput = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(stdout, ownsHandle: true));
        StandardError = new AnonymousPipeClientStream(PipeDirection.In, new SafePipeHandle(stderr, ownsHandle: true));
    }

    public int Pid { get; }
    public Stream StandardInput { get; }
    public Stream StandardOutput { get; }
    public Stream StandardError { get; }

    /// <summary>Completes when the child has exited and been reaped.</summary>
    public Task<ExitStatus> Exited => _exited.Task;

    /// <summary>Sends <paramref name="signal"/> to the child's process group, unless it was reaped already (its pid may be another's by then).</summary>
    public void SignalGroup(int signal)
    {
        if (!Exited.IsCompleted) PosixSignals.ToGroup(Pid, signal);
    }

    /// <summary>Starts <paramref name="path"/> with pipes on stdin, stdout and stderr, in <paramref name="directory"/>, with exactly <paramref name="environment"/>.</summary>
    /// <exception cref="IOException">The program could not be started (the message says why).</exception>
    public static Task<ChildProcess> StartAsync(string path, IReadOnlyList<string> argv, IReadOnlyList<string> environment, string directory)
    {
        var started = new TaskCompletionSource<ChildProcess>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() => SpawnAndWait(path, argv, environment, directory, started), maxStackSize: 256 * 1024)
        {
            IsBackground = true,
            Name = "gantry job child",
        };
        thread.UnsafeStart();
        return started.Task;
    }

    private static void SpawnAndWait(string path, IReadOnlyList<string> argv, IReadOnlyList<string> environment, string directory, TaskCompletionSource<ChildProcess> started)
    {
        ChildProcess child;
        try
        {
            child = Spawn(path, argv, environment, directory);
        }
        catch (Exception ex)
        {
            started.SetException(ex);
            return;
        }
        started.SetResult(child);
        child._exited.SetResult(WaitFor(child.Pid));
    }

    private static ChildProcess Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> environment, string directory)
    {
        int* input = stackalloc int[2], output = stackalloc int[2], error = stackalloc int[2];
        input[0] = input[1] = output[0] = output[1] = error[0] = error[1] = -1;
        var actions = NativeMemory.AllocZeroed(FileActionsSize);
        var attributes = NativeMemory.AllocZeroed(SpawnAttrSize);
        var signals = NativeMemory.AllocZeroed(SigSetSize);
        var strings = new List<nint>();
        var spawned = false;
        try
        {
            // O_CLOEXEC: no other child started meanwhile inherits these ends; dup2 onto 0/1/2 clears it in this one.
            if (Pipe2(input, OCloexec) != 0 || Pipe2(output, OCloexec) != 0 || Pipe2(error, OCloexec) != 0)
                throw new IOException($"cannot make pipes: errno {Marshal.GetLastPInvokeError()}");
            Check(FileActionsInit(actions), "posix_spawn_file_actions_init");
            Check(AddDup2(actions, input[0], 0), "adddup2");
            Check(AddDup2(actions, output[1], 1), "adddup2");
            Check(AddDup2(actions, error[1], 2), "adddup2");
            var dir = Utf8(directory, strings);
            Check(AddChdir(actions, dir), "addchdir");
            // The runtime ignores SIGPIPE and may block signals on this thread: the child starts with neither.
            Check(SpawnAttrInit(attributes), "posix_spawnattr_init");
            SigFillSet(signals);
            Check(SetSigDefault(attributes, signals), "setsigdefault");
            SigEmptySet(signals);
            Check(SetSigMask(attributes, signals), "setsigmask");
            Check(SetFlags(attributes, PosixSpawnSetSigDef | PosixSpawnSetSigMask), "setflags");

            var args = Vector(argv, strings);
            var env = Vector(environment, strings);
            int pid;
            var result = PosixSpawn(&pid, Utf8(path, strings), actions, attributes, args, env);
            if (result != 0)
                throw new IOException(result == ENoent ? $"'{directory}' or '{path}' does not exist" : $"posix_spawn failed: {Marshal.GetPInvokeErrorMessage(result)}");
            spawned = true;
            return new ChildProcess(pid, input[1], output[0], error[0]);
        }
        finally
        {
            // The child's ends are its own now; ours stay open only when it started.
            Close(input[0]); Close(output[1]); Close(error[1]);
            if (!spawned) { Close(input[1]); Close(output[0]); Close(error[0]); }
            FileActionsDestroy(actions);
            SpawnAttrDestroy(attributes);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
            NativeMemory.Free(signals);
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);
        }
    }

    private static ExitStatus WaitFor(int pid)
    {
        while (true)
        {
            int status;
            var usage = stackalloc long[RusageLongs];
            if (Wait4(pid, &status, 0, usage) == pid)
            {
                var low = status & 0x7f;
                // struct rusage: ru_utime and ru_stime (timevals of two longs), then ru_maxrss in KiB.
                var cpu = usage[0] + usage[1] / 1e6 + usage[2] + usage[3] / 1e6;
                var rss = usage[4] * 1024;
                return low == 0 ? new ExitStatus((status >> 8) & 0xff, null, cpu, rss) : new ExitStatus(null, low, cpu, rss);
            }
            var errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr) continue;
            // ECHILD: someone else reaped it (a parent that set SIGCHLD to SIG_IGN makes the runtime reap every child).
            return new ExitStatus(null, null);
        }
    }

    private static byte** Vector(IReadOnlyList<string> items, List<nint> strings)
    {
        var vector = (byte**)Marshal.AllocCoTaskMem((items.Count + 1) * sizeof(nint));
        strings.Add((nint)vector);
        for (var i = 0; i < items.Count; i++) vector[i] = Utf8(items[i], strings);
        vector[items.Count] = null;
        return vector;
    }

    private static byte* Utf8(string s, List<nint> strings)
    {
        var p = Marshal.StringToCoTaskMemUTF8(s);
        strings.Add(p);
        return (byte*)p;
    }

    private static void Check(int result, string what)
    {
        if (result != 0) throw new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(result)}");
    }

    private static void Close(int fd)
    {
        if (fd >= 0) _ = CloseFd(fd);
    }

    public void Dispose()
    {
        StandardInput.Dispose();
        StandardOutput.Dispose();
        StandardError.Dispose();
    }

    // glibc sizes on 64-bit Linux, rounded up: the structures are opaque and only ever passed by pointer.
    private const int FileActionsSize = 128, SpawnAttrSize = 512, SigSetSize = 128;
    private const int OCloexec = 0x80000, PosixSpawnSetSigDef = 0x04, PosixSpawnSetSigMask = 0x08;
    private const int ENoent = 2, EIntr = 4;

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseFd(int fd);

    // struct rusage on 64-bit Linux: two timevals and fourteen longs (18 longs), with room to spare.
    private const int RusageLongs = 32;

    [LibraryImport("libc", EntryPoint = "wait4", SetLastError = true)]
    private static partial int Wait4(int pid, int* status, int options, long* usage);

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    private static partial int PosixSpawn(int* pid, byte* path, void* actions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int FileActionsInit(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int FileActionsDestroy(void* actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int AddDup2(void* actions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    private static partial int AddChdir(void* actions, byte* path);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static partial int SpawnAttrInit(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static partial int SpawnAttrDestroy(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static partial int SetFlags(void* attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int SetSigDefault(void* attributes, void* signals);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int SetSigMask(void* attributes, void* signals);

    [LibraryImport("libc", EntryPoint = "sigfillset")]
    private static partial int SigFillSet(void* signals);

    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    private static partial int SigEmptySet(void* signals);
}
