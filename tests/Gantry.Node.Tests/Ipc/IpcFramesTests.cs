using Gantry.Flow;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Links.Ipc;

namespace Gantry.Node.Tests.Ipc;

/// <summary>The frame codec both ends share: what one writes, the other reads back unchanged.</summary>
public sealed class IpcFramesTests
{
    private static T RoundTrip<T, TValue>(TValue value, Action<FrameWriter, TValue> write, IpcDecoder<T> read)
    {
        using var writer = new FrameWriter(16);
        writer.Begin(IpcMessageType.Report, 7);
        write(writer, value);
        writer.End();
        var frame = writer.Written;
        Assert.Equal(frame.Length - 4, BitConverter.ToInt32(frame[..4]));
        Assert.Equal((byte)IpcMessageType.Report, frame[4]);
        Assert.Equal(7u, BitConverter.ToUInt32(frame[5..9]));
        var reader = new FrameReader(frame[IpcFrames.HeaderBytes..]);
        var result = read(ref reader);
        Assert.True(reader.AtEnd);
        return result;
    }

    [Fact]
    public void Jobs_RoundTrip_EveryField()
    {
        var job = new ClaimedJob
        {
            Id = Guid.NewGuid(), Type = "échò", Queue = "mail", Priority = -3, Payload = """{"a":[1,2]}""", Attempt = 2, MaxAttempts = 9,
            Timeout = TimeSpan.FromSeconds(1.5), Backoff = new Backoff(TimeSpan.FromSeconds(2), TimeSpan.FromMinutes(3)), WorkerId = "node-1",
            Tags = new Dictionary<string, string> { ["zone"] = "eu" }, CreatedAt = DateTimeOffset.UnixEpoch.AddDays(20000),
            Checkpoint = [1, 2, 3], CheckpointAt = DateTimeOffset.UnixEpoch.AddDays(20001), CheckpointInterval = TimeSpan.FromMinutes(1),
            TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TraceState = "vendor=1",
        };
        var back = Assert.Single(RoundTrip<IReadOnlyList<ClaimedJob>, List<ClaimedJob>>([job], IpcFrames.WriteJobs, static (ref FrameReader r) => IpcFrames.ReadJobs(ref r)));
        Assert.Equal(job with { Tags = back.Tags, Checkpoint = back.Checkpoint }, back);
        Assert.Equal("eu", back.Tags["zone"]);
        Assert.Equal(job.Checkpoint, back.Checkpoint);
    }

    [Fact]
    public void Jobs_HeldBackQueues_RoundTrip_EvenWithoutJobs()
    {
        var back = RoundTrip<IReadOnlyList<ClaimedJob>, IReadOnlyList<ClaimedJob>>(new ClaimedJobs([], ["mail", "reports"]), IpcFrames.WriteJobs,
            static (ref FrameReader r) => IpcFrames.ReadJobs(ref r));
        Assert.Empty(back);
        Assert.Equal(["mail", "reports"], ClaimedJobs.HeldBackOf(back));
        // A plain answer says nothing held back.
        Assert.Empty(ClaimedJobs.HeldBackOf(RoundTrip<IReadOnlyList<ClaimedJob>, IReadOnlyList<ClaimedJob>>([], IpcFrames.WriteJobs,
            static (ref FrameReader r) => IpcFrames.ReadJobs(ref r))));
    }

    [Fact]
    public void Reports_RoundTrip_EveryKind()
    {
        var id = Guid.NewGuid();
        JobReport[] reports =
        [
            new JobProgressReport(id, 1, "n", 42.5, "half"),
            new JobSucceededReport(id, 1, "n", """{"ok":true}"""),
            new JobSucceededReport(id, 1, "n", null),
            new JobFailedReport(id, 1, "n", new JobError("exception", "boom", "System.X", "at y"), JobState.Scheduled, DateTimeOffset.UnixEpoch.AddHours(1)),
            new JobCancelledReport(id, 1, "n"),
            new JobRequeuedReport(id, 1, "n"),
            new JobUsageReport(id, 1, "n", new AttemptUsage { Outcome = AttemptOutcomes.LimitHit, Limit = AttemptLimits.Memory, CpuSeconds = 1.25, PeakMemoryBytes = 64L << 20, Signal = 9 }),
            new JobUsageReport(id, 1, "n", new AttemptUsage { Outcome = AttemptOutcomes.Exited, ExitCode = 0 }),
        ];
        var back = RoundTrip<List<JobReport>, IReadOnlyList<JobReport>>(reports, IpcFrames.WriteReports, static (ref FrameReader r) => IpcFrames.ReadReports(ref r));
        Assert.Equal(reports, back);

        var checkpoint = (JobCheckpointReport)Assert.Single(RoundTrip<List<JobReport>, IReadOnlyList<JobReport>>(
            [new JobCheckpointReport(id, 3, "n", [9, 8])], IpcFrames.WriteReports, static (ref FrameReader r) => IpcFrames.ReadReports(ref r)));
        Assert.Equal([9, 8], checkpoint.Data);
        var log = (JobLogReport)Assert.Single(RoundTrip<List<JobReport>, IReadOnlyList<JobReport>>(
            [new JobLogReport(id, 3, "n", [new JobLogLine(1, DateTimeOffset.UnixEpoch, "information", "hi")])], IpcFrames.WriteReports, static (ref FrameReader r) => IpcFrames.ReadReports(ref r)));
        Assert.Equal(new JobLogLine(1, DateTimeOffset.UnixEpoch, "information", "hi"), Assert.Single(log.Lines));
    }

    [Fact]
    public void Hello_OtherProtocolVersion_Refused()
    {
        using var writer = new FrameWriter();
        writer.I32(IpcFrames.ProtocolVersion + 1);
        Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new FrameReader(writer.Written);
            IpcFrames.ReadHello(ref reader);
        });
    }

    [Fact]
    public void Reader_TruncatedBody_Throws()
    {
        Assert.Throws<InvalidDataException>(() =>
        {
            var reader = new FrameReader([5, 0, 0, 0, 1]);
            reader.String();
        });
    }
}
