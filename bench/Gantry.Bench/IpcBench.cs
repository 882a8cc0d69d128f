using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using Gantry.Node;
using Gantry.Storage;
using Gantry.Worker.Links;
using Gantry.Worker.Links.Ipc;
using Microsoft.Extensions.Logging.Abstractions;

using static Gantry.Bench.BenchStats;

namespace Gantry.Bench;

/// <summary>
/// The node–worker round trip. This process runs a real node (<see cref="GantryNode"/>) whose coordinator answers at once
/// (reports go through the node's batcher to an instant in-memory coordinator), next to a raw Unix-socket echo. The node
/// starts its one worker process as it starts any, from <paramref name="gantry"/>: here <c>gantry bench ipc --client</c>
/// (<see cref="ClientAsync"/>), which times report and fetch round trips through the real <see cref="IpcWorkerLink"/>,
/// and raw ping-pongs of the same byte size, and leaves its figures in the node's run directory.
/// </summary>
/// <param name="gantry">The gantry program and its leading arguments.</param>
public sealed class IpcBench(IReadOnlyList<string> gantry, int samples, Action<string> progress)
{
    /// <summary>Where the worker side leaves its figures (or why it failed), in the run directory.</summary>
    private const string ResultFile = "ipc-result.json";
    private const string ErrorFile = "ipc-error.txt";

    public async Task<IpcBenchResult> RunAsync(CancellationToken ct)
    {
        var dir = Directory.CreateTempSubdirectory("gantry-bench-ipc-").FullName;
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var rawPath = Path.Combine(dir, "raw.sock");
            using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            raw.Bind(new UnixDomainSocketEndPoint(rawPath));
            raw.Listen(1);
            var echo = EchoAsync(raw, stop.Token);

            progress($"timing {samples:N0} round trips of each kind in a worker process");
            // The node appends its own arguments (worker --node-socket … --local-id …) after "--": the client reads them.
            var options = new NodeOptions
            {
                RunDirectory = dir,
                WorkerCommand = [.. gantry, "bench", "ipc", "--client", dir, "--samples", $"{samples}", "--"],
                Workers = 1,
                Queues = new Dictionary<string, int> { ["default"] = 1 },
                RelayWorkerOutput = false,
            };
            await using (var node = new GantryNode(new InstantCoordinator(), options, NullLoggerFactory.Instance))
            {
                await node.StartAsync(ct).ConfigureAwait(false);
                var (result, error) = (Path.Combine(dir, ResultFile), Path.Combine(dir, ErrorFile));
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
                limit.CancelAfter(TimeSpan.FromMinutes(10));
                while (!File.Exists(result) && !File.Exists(error)) await Task.Delay(20, limit.Token).ConfigureAwait(false);
                await node.StopAsync(ct).ConfigureAwait(false);
                await stop.CancelAsync().ConfigureAwait(false);
                if (File.Exists(error))
                    throw new GantryException($"the benchmark's worker process failed: {await File.ReadAllTextAsync(error, ct).ConfigureAwait(false)}");
                return JsonSerializer.Deserialize(await File.ReadAllTextAsync(result, ct).ConfigureAwait(false), BenchJson.Default.IpcBenchResult)!;
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task EchoAsync(Socket listener, CancellationToken ct)
    {
        try
        {
            using var socket = await listener.AcceptAsync(ct).ConfigureAwait(false);
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct).ConfigureAwait(false);
                if (n == 0) return;
                await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, ct).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException)
        {
        }
    }

    /// <summary>
    /// The worker side, in the worker process the node started: leaves an <see cref="IpcBenchResult"/> as JSON in
    /// <paramref name="dir"/>, or why it failed. <paramref name="node"/> is what the node added to the command line
    /// (<c>worker --node-socket PATH --local-id N …</c>).
    /// </summary>
    public static async Task ClientAsync(string dir, int samples, IReadOnlyList<string> node, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(node);
        try
        {
            string Flag(string name) => node.SkipWhile(a => a != name).Skip(1).FirstOrDefault()
                ?? throw new GantryException($"the node gave no {name}: {string.Join(' ', node)}");
            var result = await MeasureAsync(dir, Flag("--node-socket"), int.Parse(Flag("--local-id"), System.Globalization.CultureInfo.InvariantCulture), samples, ct)
                .ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(dir, ResultFile + ".tmp"), JsonSerializer.Serialize(result, BenchJson.Default.IpcBenchResult), ct).ConfigureAwait(false);
            File.Move(Path.Combine(dir, ResultFile + ".tmp"), Path.Combine(dir, ResultFile));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await File.WriteAllTextAsync(Path.Combine(dir, ErrorFile), $"{ex.GetType().Name}: {ex.Message}", CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<IpcBenchResult> MeasureAsync(string dir, string socket, int localId, int samples, CancellationToken ct)
    {
        await using var link = await IpcWorkerLink.ConnectAsync(socket, localId, ct).ConfigureAwait(false);
        await link.RegisterAsync(new WorkerRegistration { Id = "bench", Host = "bench", ProcessId = Environment.ProcessId, Queues = new Dictionary<string, int> { ["default"] = 1 }, Capacity = 1 }, ct).ConfigureAwait(false);
        var report = new JobReport[] { new JobSucceededReport(Guid.NewGuid(), 1, "bench-node-0000000000000000", """{"ok":true}""") };
        var claim = new JobClaimParams("bench", [new QueueDemand("default", 1)], TimeSpan.FromSeconds(30), []);
        using var writer = new FrameWriter();
        writer.Begin(IpcMessageType.Report, 1);
        IpcFrames.WriteReports(writer, report);
        writer.End();
        var size = writer.Length;

        using var raw = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await raw.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(dir, "raw.sock")), ct).ConfigureAwait(false);
        var message = new byte[size];
        var answer = new byte[size];

        var reports = new double[samples];
        var fetches = new double[samples];
        var raws = new double[samples];
        // Warm up the JIT and the socket paths, then take the three kinds in turn so that noise hits them alike.
        for (var round = 0; round < 2; round++)
        {
            var n = round == 0 ? Math.Min(2000, samples) : samples;
            for (var i = 0; i < n; i++)
            {
                var t = Stopwatch.GetTimestamp();
                await link.ReportAsync(report, ct).ConfigureAwait(false);
                if (round == 1) reports[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;

                t = Stopwatch.GetTimestamp();
                await link.ClaimAsync(claim, mayWait: false, ct).ConfigureAwait(false);
                if (round == 1) fetches[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;

                t = Stopwatch.GetTimestamp();
                await raw.SendAsync(message, SocketFlags.None, ct).ConfigureAwait(false);
                for (var got = 0; got < size;) got += await raw.ReceiveAsync(answer.AsMemory(got), SocketFlags.None, ct).ConfigureAwait(false);
                if (round == 1) raws[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
            }
        }
        Array.Sort(reports);
        Array.Sort(fetches);
        Array.Sort(raws);
        return new IpcBenchResult
        {
            Samples = samples,
            MessageBytes = size,
            IpcP50Us = Round(Percentile(reports, 0.50)),
            IpcP99Us = Round(Percentile(reports, 0.99)),
            FetchP50Us = Round(Percentile(fetches, 0.50)),
            FetchP99Us = Round(Percentile(fetches, 0.99)),
            RawP50Us = Round(Percentile(raws, 0.50)),
            RawP99Us = Round(Percentile(raws, 0.99)),
            Machine = $"{Environment.ProcessorCount} cores, {Environment.OSVersion.VersionString}, .NET {Environment.Version}",
        };
    }

    private static double Round(double v) => Math.Round(v, 1);

    /// <summary>A coordinator that answers at once: the benchmark times the IPC, not a store.</summary>
    private sealed class InstantCoordinator : IWorkerLink
    {
        private static readonly ClaimedJob Job = new()
        {
            Id = Guid.NewGuid(), Type = "noop", Queue = "default", Payload = "{}", Attempt = 1, MaxAttempts = 5, WorkerId = "bench-node-0000000000000000",
        };

        public string Description => "in-memory";
        public Task RegisterAsync(WorkerRegistration registration, CancellationToken ct) => Task.CompletedTask;
        public Task DeregisterAsync(string workerId, CancellationToken ct) => Task.CompletedTask;
        public Task<IReadOnlyList<ClaimedJob>> ClaimAsync(JobClaimParams p, bool mayWait, CancellationToken ct) => Task.FromResult<IReadOnlyList<ClaimedJob>>([Job]);
        public async Task<bool> WaitForJobsAsync(TimeSpan timeout, CancellationToken ct) { await Task.Delay(timeout, ct).ConfigureAwait(false); return false; }
        public Task<IReadOnlyList<bool>> ReportAsync(IReadOnlyList<JobReport> reports, CancellationToken ct) =>
            Task.FromResult<IReadOnlyList<bool>>(Enumerable.Repeat(true, reports.Count).ToArray());
        public Task<WorkerHeartbeatResult> HeartbeatAsync(WorkerHeartbeatParams p, CancellationToken ct) => Task.FromResult(new WorkerHeartbeatResult([], []));
        public Task<IReadOnlyList<WorkerCommand>> TakeCommandsAsync(string workerId, CancellationToken ct) => Task.FromResult<IReadOnlyList<WorkerCommand>>([]);
        public Task WaitForCommandsAsync(TimeSpan timeout, CancellationToken ct) => Task.Delay(timeout, ct);
    }
}

/// <summary>What <c>gantry bench ipc --json</c> prints: report round trips (<c>ipc_*</c>), fetch round trips, and raw ping-pongs of the same size.</summary>
public sealed record IpcBenchResult
{
    public required int Samples { get; init; }
    public required int MessageBytes { get; init; }
    public required double IpcP50Us { get; init; }
    public required double IpcP99Us { get; init; }
    public required double FetchP50Us { get; init; }
    public required double FetchP99Us { get; init; }
    public required double RawP50Us { get; init; }
    public required double RawP99Us { get; init; }
    public required string Machine { get; init; }
}
