using System.Collections.Concurrent;
using System.Diagnostics;

namespace Gantry.Node.Supervision;

/// <summary>
/// Starts worker processes from one long-lived thread. A managed worker asks the kernel to kill it
/// when its parent dies (PR_SET_PDEATHSIG), and Linux means the parent *thread*: a process started
/// from a thread-pool thread would be killed when that thread retires. One thread that lives as long
/// as the node avoids that.
/// </summary>
internal sealed class WorkerSpawner : IDisposable
{
    private readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<Process> Started)> _queue = new();
    private readonly Thread _thread;

    public WorkerSpawner()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "gantry-node-spawner" };
        _thread.Start();
    }

    public Task<Process> StartAsync(ProcessStartInfo info, CancellationToken ct)
    {
        var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add((info, started), ct);
        return started.Task;
    }

    private void Run()
    {
        foreach (var (info, started) in _queue.GetConsumingEnumerable())
        {
            try
            {
                var process = new Process { StartInfo = info, EnableRaisingEvents = true };
                process.Start();
                started.TrySetResult(process);
            }
            catch (Exception ex)
            {
                started.TrySetException(ex);
            }
        }
    }

    public void Dispose() => _queue.CompleteAdding();
}
