using System.Net;
using System.Net.Sockets;

namespace Gantry.Cli.Tests;

/// <summary>
/// What an operator reads: an outage of the coordinator is one line with its cause and one when it is over, never a
/// stack trace per retry; an idle HTTP worker's requests are not logged at Information, by the server nor the worker.
/// </summary>
[RunsLong(12)]
public sealed class LogVolumeTests : IDisposable
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static int Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    [Fact]
    public async Task HttpWorker_ServerDownThenUpThenIdle_OneLinePerOutageAndQuietRequests()
    {
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        await using var worker = GantryProcess.Start(_dir.Path, "worker", "--server", url, "--heartbeat-interval", "500ms", "--poll-interval", "50ms");
        // Retries at 0.2, 0.4, 0.8, 1.6, 3.2 s: five or more failures in these seconds.
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.False(worker.HasExited, worker.Output);
        var down = worker.Output;
        Assert.Equal(1, down.Split('\n').Count(l => l.Contains("cannot be reached", StringComparison.Ordinal)));
        Assert.Contains("Connection refused", down, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", down, StringComparison.Ordinal);
        Assert.True(Lines(down) <= 2, down);

        await using var server = GantryProcess.Start(_dir.Path, "server", "--db", _dir.Db, "--listen", $"127.0.0.1:{port}");
        await server.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);
        await worker.WaitForOutputAsync("answers again", Generous);
        await worker.WaitForOutputAsync("Press Ctrl-C to stop.", Generous);

        // Idle: long polls, heartbeats and command polls go on; none of them is an Information line.
        var (serverBefore, workerBefore) = (Lines(server.Output), Lines(worker.Output));
        await Task.Delay(TimeSpan.FromSeconds(5));
        var (serverAfter, workerAfter) = (Lines(server.Output), Lines(worker.Output));
        Assert.True(serverAfter - serverBefore <= 1, "server:\n" + server.Output);
        Assert.True(workerAfter - workerBefore <= 1, "worker:\n" + worker.Output);
        Assert.DoesNotContain("Request starting", server.Output, StringComparison.Ordinal);
    }
}
