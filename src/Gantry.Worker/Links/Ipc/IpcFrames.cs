using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Storage;

namespace Gantry.Worker.Links.Ipc;

/// <summary>
/// The bodies of the IPC messages, written and read in one place so that both ends agree
/// (docs/ipc.md describes them byte by byte). Binary, not JSON: a job or report costs a few
/// copies and no reflection on the hot fetch and report path.
/// </summary>
public static class IpcFrames
{
    /// <summary>Bumped when a body changes; a worker and a node of different versions refuse each other in <see cref="IpcMessageType.Hello"/>.</summary>
    public const int ProtocolVersion = 3;

    /// <summary>Largest body accepted: a claim of 1,024 jobs with large payloads, or a 4 MiB checkpoint, fits.</summary>
    public const int MaxFrameBytes = 64 * 1024 * 1024;

    /// <summary>Bytes before the body: u32 length, u8 type, u32 id.</summary>
    public const int HeaderBytes = 9;

    /// <summary>What one frame carries of a list (a fetch's jobs, a batch of reports): room to spare for the list's own fields (its count, the held-back queues).</summary>
    internal const int ListBudget = MaxFrameBytes - 64 * 1024;
    private const long FixedPerItem = 256;

    /// <summary>A string's size in a frame, at most: 3 bytes a character, with nothing encoded.</summary>
    internal static long Bound(string? text) => 4 + 3L * (text?.Length ?? 0);
    /// <summary>A string's size in a frame.</summary>
    internal static long Exact(string? text) => 4 + (text is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(text));

    /// <summary>How many of a claim's jobs, from the first, one frame carries (0: the first alone is larger than a frame).</summary>
    internal static int JobsFitting(IReadOnlyList<ClaimedJob> jobs) =>
        Links.MessageParts.Fitting(jobs, 0, ListBudget, static j => SizeOf(j, Bound), static j => SizeOf(j, Exact));

    /// <summary>What <see cref="WriteJobs"/> writes of <paramref name="job"/>, at most, with strings sized by <paramref name="text"/>.</summary>
    internal static long SizeOf(ClaimedJob job, Func<string?, long> text)
    {
        var size = FixedPerItem + text(job.Type) + text(job.Queue) + text(job.Payload) + text(job.WorkerId) + text(job.TraceParent)
            + text(job.TraceState) + (job.Checkpoint?.Length ?? 0) + (job.Limits is null ? 0 : 1024);
        foreach (var (k, v) in job.Tags) size += text(k) + text(v);
        if (job.Dependencies is { } dependencies)
            foreach (var (k, v) in dependencies) size += text(k) + text(v);
        return size;
    }

    /// <summary>What <see cref="WriteReports"/> writes of <paramref name="report"/>, at most, with strings sized by <paramref name="text"/>.</summary>
    internal static long SizeOf(JobReport report, Func<string?, long> text) => FixedPerItem + text(report.WorkerId) + report switch
    {
        JobProgressReport p => text(p.Message),
        JobSucceededReport s => text(s.Result),
        JobFailedReport f => text(f.Error.Kind) + text(f.Error.Message) + text(f.Error.Type) + text(f.Error.StackTrace),
        JobCheckpointReport c => c.Data.Length,
        JobLogReport l => l.Lines.Sum(line => 32 + text(line.Level) + text(line.Message)),
        JobUsageReport u => text(u.Usage.Outcome) + text(u.Usage.Limit),
        _ => 0,
    };

    internal static void WriteHello(FrameWriter w, IpcHello hello)
    {
        w.I32(ProtocolVersion);
        w.I32(hello.LocalId);
        w.I32(hello.ProcessId);
        w.String(hello.WorkerId);
        w.I32(hello.Capacity);
        w.Map(hello.Queues, static (w, v) => w.I32(v));
        w.Strings(hello.JobTypes);
        w.Strings(hello.Capabilities);
    }

    internal static IpcHello ReadHello(ref FrameReader r)
    {
        var version = r.I32();
        if (version != ProtocolVersion) throw new InvalidDataException($"IPC protocol version {version} is not {ProtocolVersion}: the worker and the node are different Gantry builds");
        var localId = r.I32();
        var pid = r.I32();
        var workerId = r.RequiredString();
        var capacity = r.I32();
        var n = r.Count();
        var queues = new Dictionary<string, int>(n, StringComparer.Ordinal);
        for (var i = 0; i < n; i++) queues[r.RequiredString()] = r.I32();
        return new IpcHello(localId, pid, workerId, capacity, queues, r.Strings(), r.Strings());
    }

    internal static void WriteFetch(FrameWriter w, IpcFetch fetch)
    {
        w.I32(fetch.Demands.Count);
        foreach (var d in fetch.Demands) { w.String(d.Queue); w.I32(d.Limit); }
        w.Bool(fetch.MayWait);
    }

    internal static IpcFetch ReadFetch(ref FrameReader r)
    {
        var n = r.Count();
        var list = new List<QueueDemand>(n);
        for (var i = 0; i < n; i++) list.Add(new QueueDemand(r.RequiredString(), r.I32()));
        return new IpcFetch(list, r.Bool());
    }

    /// <summary>Writes the body of a Fetch's answer: the claimed jobs.</summary>
    public static void WriteJobs(FrameWriter w, IReadOnlyList<ClaimedJob> jobs)
    {
        w.I32(jobs.Count);
        foreach (var j in jobs)
        {
            w.Guid(j.Id);
            w.String(j.Type);
            w.String(j.Queue);
            w.I32(j.Priority);
            w.String(j.Payload);
            w.I32(j.Attempt);
            w.I32(j.MaxAttempts);
            w.Duration(j.Timeout);
            w.Duration(j.Backoff.Base);
            w.Duration(j.Backoff.Max);
            w.String(j.WorkerId);
            w.Map(j.Tags, static (w, v) => w.String(v));
            w.Time(j.CreatedAt);
            w.Bytes(j.Checkpoint, j.Checkpoint is null);
            w.Time(j.CheckpointAt);
            w.Duration(j.CheckpointInterval);
            w.Time(j.DueAt);
            // A workflow step's dependency results (null for a plain job): count −1 for none.
            if (j.Dependencies is null) w.I32(-1);
            else w.Map(j.Dependencies, static (w, v) => w.String(v));
            w.String(j.TraceParent);
            w.String(j.TraceState);
            w.String(j.Limits?.ToJson());
        }
        // The queues a flow limit held back (ClaimedJobs.HeldBack), after the jobs.
        var heldBack = ClaimedJobs.HeldBackOf(jobs);
        w.I32(heldBack.Count);
        foreach (var queue in heldBack) w.String(queue);
    }

    /// <summary>A Fetch's answer: the jobs, and the queues held back when the node's claim said so.</summary>
    public static IReadOnlyList<ClaimedJob> ReadJobs(ref FrameReader r)
    {
        var n = r.Count();
        var jobs = new List<ClaimedJob>(n);
        for (var i = 0; i < n; i++)
        {
            var id = r.Guid();
            var type = r.RequiredString();
            var queue = r.RequiredString();
            var priority = r.I32();
            var payload = r.RequiredString();
            var attempt = r.I32();
            var maxAttempts = r.I32();
            var timeout = r.Duration();
            var backoff = new Backoff(r.Duration() ?? Backoff.BaseDefault, r.Duration() ?? Backoff.MaxDefault);
            var workerId = r.RequiredString();
            var tagCount = r.Count();
            IReadOnlyDictionary<string, string> tags = NewJob.NoTags;
            if (tagCount > 0)
            {
                var t = new Dictionary<string, string>(tagCount, StringComparer.Ordinal);
                for (var k = 0; k < tagCount; k++) t[r.RequiredString()] = r.RequiredString();
                tags = t;
            }
            jobs.Add(new ClaimedJob
            {
                Id = id, Type = type, Queue = queue, Priority = priority, Payload = payload, Attempt = attempt, MaxAttempts = maxAttempts,
                Timeout = timeout, Backoff = backoff, WorkerId = workerId, Tags = tags, CreatedAt = r.Time() ?? default,
                Checkpoint = r.Bytes(), CheckpointAt = r.Time(), CheckpointInterval = r.Duration(),
                DueAt = r.Time() ?? default, Dependencies = ReadDependencies(ref r), TraceParent = r.String(), TraceState = r.String(),
                Limits = ResourceLimits.FromJson(r.String()),
            });
        }
        var heldBack = r.AtEnd ? [] : r.Strings();
        return heldBack.Length == 0 ? jobs : new ClaimedJobs(jobs, heldBack);
    }

    private static Dictionary<string, string?>? ReadDependencies(ref FrameReader r)
    {
        var n = r.Count();
        if (n < 0) return null;
        var dependencies = new Dictionary<string, string?>(n, StringComparer.Ordinal);
        for (var k = 0; k < n; k++) dependencies[r.RequiredString()] = r.String();
        return dependencies;
    }

    private enum ReportKind : byte { Progress = 1, Succeeded, Failed, Cancelled, Requeued, Checkpoint, Log, Usage }

    /// <summary>Writes the body of a Report request: the reports, each with its kind.</summary>
    public static void WriteReports(FrameWriter w, IReadOnlyList<JobReport> reports)
    {
        w.I32(reports.Count);
        foreach (var report in reports) WriteReport(w, report);
    }

    private static void WriteReport(FrameWriter w, JobReport report)
    {
        w.U8((byte)(report switch
        {
            JobProgressReport => ReportKind.Progress,
            JobSucceededReport => ReportKind.Succeeded,
            JobFailedReport => ReportKind.Failed,
            JobCancelledReport => ReportKind.Cancelled,
            JobRequeuedReport => ReportKind.Requeued,
            JobCheckpointReport => ReportKind.Checkpoint,
            JobLogReport => ReportKind.Log,
            JobUsageReport => ReportKind.Usage,
            _ => throw new ArgumentException($"unknown report {report.GetType().Name}", nameof(report)),
        }));
        w.Guid(report.JobId);
        w.I32(report.Attempt);
        w.String(report.WorkerId);
        switch (report)
        {
            case JobProgressReport p:
                w.F64(p.Percent);
                w.String(p.Message);
                break;
            case JobSucceededReport s:
                w.String(s.Result);
                break;
            case JobFailedReport f:
                w.String(f.Error.Kind);
                w.String(f.Error.Message);
                w.String(f.Error.Type);
                w.String(f.Error.StackTrace);
                w.U8((byte)f.Next);
                w.Time(f.RunAt);
                break;
            case JobCheckpointReport c:
                w.Bytes(c.Data);
                break;
            case JobLogReport l:
                w.I32(l.Lines.Count);
                foreach (var line in l.Lines) { w.I32(line.Number); w.Time(line.At); w.String(line.Level); w.String(line.Message); }
                break;
            case JobUsageReport u:
                w.String(u.Usage.Outcome);
                w.F64(u.Usage.CpuSeconds ?? -1);
                w.I64(u.Usage.PeakMemoryBytes ?? -1);
                w.I32(u.Usage.ExitCode ?? -1);
                w.I32(u.Usage.Signal ?? -1);
                w.String(u.Usage.Limit);
                break;
        }
    }

    /// <summary>Reads the body <see cref="WriteReports"/> wrote.</summary>
    public static List<JobReport> ReadReports(ref FrameReader r)
    {
        var n = r.Count();
        var list = new List<JobReport>(n);
        for (var i = 0; i < n; i++) list.Add(ReadReport(ref r));
        return list;
    }

    private static JobReport ReadReport(ref FrameReader r)
    {
        var kind = (ReportKind)r.U8();
        var id = r.Guid();
        var attempt = r.I32();
        var worker = r.RequiredString();
        switch (kind)
        {
            case ReportKind.Progress:
                return new JobProgressReport(id, attempt, worker, r.F64(), r.String());
            case ReportKind.Succeeded:
                return new JobSucceededReport(id, attempt, worker, r.String());
            case ReportKind.Failed:
                var error = new JobError(r.RequiredString(), r.RequiredString(), r.String(), r.String());
                var next = (JobState)r.U8();
                return new JobFailedReport(id, attempt, worker, error, next, r.Time());
            case ReportKind.Cancelled:
                return new JobCancelledReport(id, attempt, worker);
            case ReportKind.Requeued:
                return new JobRequeuedReport(id, attempt, worker);
            case ReportKind.Checkpoint:
                return new JobCheckpointReport(id, attempt, worker, r.Bytes() ?? []);
            case ReportKind.Log:
                var count = r.Count();
                var lines = new JobLogLine[count];
                for (var k = 0; k < count; k++) lines[k] = new JobLogLine(r.I32(), r.Time() ?? default, r.RequiredString(), r.RequiredString());
                return new JobLogReport(id, attempt, worker, lines);
            case ReportKind.Usage:
                var outcome = r.RequiredString();
                var cpu = r.F64();
                var peak = r.I64();
                var code = r.I32();
                var signal = r.I32();
                return new JobUsageReport(id, attempt, worker, new AttemptUsage
                {
                    Outcome = outcome, CpuSeconds = cpu < 0 ? null : cpu, PeakMemoryBytes = peak < 0 ? null : peak,
                    ExitCode = code < 0 ? null : code, Signal = signal < 0 ? null : signal, Limit = r.String(),
                });
            default:
                throw new InvalidDataException($"IPC frame: unknown report kind {(byte)kind}");
        }
    }

    /// <summary>Writes the body of a Report's answer: per report, whether it applied.</summary>
    public static void WriteApplied(FrameWriter w, IReadOnlyList<bool> applied)
    {
        w.I32(applied.Count);
        foreach (var a in applied) w.Bool(a);
    }

    /// <summary>Reads the body <see cref="WriteApplied"/> wrote.</summary>
    public static bool[] ReadApplied(ref FrameReader r)
    {
        var n = r.Count();
        var applied = new bool[n];
        for (var i = 0; i < n; i++) applied[i] = r.Bool();
        return applied;
    }

    /// <summary>Writes a list of attempts (job id and attempt): a Heartbeat's body, or its answer's lost attempts.</summary>
    public static void WriteLeases(FrameWriter w, IReadOnlyCollection<JobLease> leases)
    {
        w.I32(leases.Count);
        foreach (var l in leases) { w.Guid(l.JobId); w.I32(l.Attempt); }
    }

    /// <summary>Reads the list <see cref="WriteLeases"/> wrote.</summary>
    public static List<JobLease> ReadLeases(ref FrameReader r)
    {
        var n = r.Count();
        var list = new List<JobLease>(n);
        for (var i = 0; i < n; i++) list.Add(new JobLease(r.Guid(), r.I32()));
        return list;
    }
}

/// <summary>What a worker says about itself when it connects.</summary>
/// <param name="LocalId">The number the node gave the worker when it spawned it.</param>
internal sealed record IpcHello(int LocalId, int ProcessId, string WorkerId, int Capacity, IReadOnlyDictionary<string, int> Queues,
    IReadOnlyList<string> JobTypes, IReadOnlyList<string> Capabilities);

/// <summary>A worker's Fetch: what to claim per queue, and whether the node may hold the claim open
/// upstream until work comes (see <see cref="IWorkerLink.ClaimAsync"/>).</summary>
internal sealed record IpcFetch(IReadOnlyList<QueueDemand> Demands, bool MayWait);
