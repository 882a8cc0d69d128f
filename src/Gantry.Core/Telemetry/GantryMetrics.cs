using System.Diagnostics.Metrics;

namespace Gantry.Telemetry;

/// <summary>
/// Gantry's instruments, one meter for the whole system (<see cref="MeterName"/>), recorded where the
/// thing happens, and so counting what one process did: their names say so (<c>gantry.process.*</c>), apart
/// from what <c>/metrics</c> reads from the store for the whole cluster (<c>gantry_jobs</c>, <c>gantry_workers</c>…): the worker runtime records job outcomes, durations and its claim and report
/// latencies; the coordinator records submissions and rescues. Any exporter subscribes by the meter's
/// name: the Prometheus <c>/metrics</c> endpoint, or OTLP. Durations are in seconds.
/// </summary>
public static class GantryMetrics
{
    /// <summary>The meter's name, <c>Gantry</c>: what an exporter subscribes to.</summary>
    public const string MeterName = "Gantry";

    private static readonly Meter Meter = new(MeterName, typeof(GantryMetrics).Assembly.GetName().Version?.ToString());

    /// <summary>Upper bounds of the duration histograms' buckets, from 100 µs to 5 minutes.</summary>
    public static readonly double[] DurationBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    /// <summary>Upper bounds of the job-count histograms' buckets, powers of two up to 1,024 (the largest claim).</summary>
    public static readonly double[] CountBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

    // Histograms advise their buckets, so that an OpenTelemetry exporter (and /metrics) uses bounds that fit the values
    // instead of its defaults (0–10,000, made for milliseconds: every duration in seconds would land in le="5").
    private static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = DurationBuckets };
    private static readonly InstrumentAdvice<double> Jobs = new() { HistogramBucketBoundaries = CountBuckets };

    /// <summary>Upper bounds of the CPU-time histogram's buckets, from 10 ms to an hour.</summary>
    public static readonly double[] CpuBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

    /// <summary>Upper bounds of the peak-memory histogram's buckets, powers of four from 1 MiB to 16 GiB.</summary>
    public static readonly double[] MemoryBuckets = [1 << 20, 4 << 20, 16 << 20, 64 << 20, 256 << 20, 1L << 30, 4L << 30, 16L << 30];

    private static readonly InstrumentAdvice<double> Bytes = new() { HistogramBucketBoundaries = MemoryBuckets };
    private static readonly InstrumentAdvice<double> CpuSecondsAdvice = new() { HistogramBucketBoundaries = CpuBuckets };

    /// <summary>Jobs that succeeded. Tags: queue, type.</summary>
    public static readonly Counter<long> JobsCompleted = Meter.CreateCounter<long>("gantry.process.jobs.completed", "{job}", "Jobs that succeeded, run by this process");

    /// <summary>Attempts that failed (retried or dead). Tags: queue, type, final (true when the job is dead).</summary>
    public static readonly Counter<long> JobsFailed = Meter.CreateCounter<long>("gantry.process.jobs.failed", "{attempt}", "Attempts that failed, retried or dead, run by this process");

    /// <summary>Running jobs taken back from a lost worker. Tags: outcome (queued, dead, cancelled).</summary>
    public static readonly Counter<long> JobsRescued = Meter.CreateCounter<long>("gantry.process.jobs.rescued", "{job}", "Jobs taken back from expired leases by this process's rescuer");

    /// <summary>Jobs accepted by a submission (new ones only). Tags: queue.</summary>
    public static readonly Counter<long> JobsSubmitted = Meter.CreateCounter<long>("gantry.process.jobs.submitted", "{job}", "Jobs this process accepted (its API and jobs folder); the store's gantry_jobs counts every process's");

    /// <summary>From when a job became due to when its attempt started. Tags: queue.</summary>
    public static readonly Histogram<double> QueueWait = Meter.CreateHistogram<double>("gantry.process.job.queue_wait", "s", "Time from due to start, of jobs run by this process", tags: null, advice: Seconds);

    /// <summary>How long attempts ran. Tags: queue, type, outcome.</summary>
    public static readonly Histogram<double> RunDuration = Meter.CreateHistogram<double>("gantry.process.job.run_duration", "s", "Attempt run time, in this process", tags: null, advice: Seconds);

    /// <summary>One claim call that returned jobs, as the worker saw it (for HTTP workers, a long poll that returned). Tags: link.</summary>
    public static readonly Histogram<double> ClaimDuration = Meter.CreateHistogram<double>("gantry.process.claim_duration", "s", "Claim latency, as this process's worker saw it", tags: null, advice: Seconds);

    /// <summary>Jobs one claim returned (claims that returned none are not recorded). Tags: none.</summary>
    public static readonly Histogram<double> ClaimSize = Meter.CreateHistogram<double>("gantry.process.claim_size", "{job}", "Jobs per claim that returned any, as this process's worker saw it", tags: null, advice: Jobs);

    /// <summary>One batch of reports written, as the worker saw it. Tags: link.</summary>
    public static readonly Histogram<double> ReportDuration = Meter.CreateHistogram<double>("gantry.process.report_duration", "s", "Report batch latency, as this process's worker saw it", tags: null, advice: Seconds);

    /// <summary>CPU time of a process-handler attempt's whole tree. Tags: queue, type, outcome (<see cref="Jobs.AttemptOutcomes"/>).</summary>
    public static readonly Histogram<double> AttemptCpu = Meter.CreateHistogram<double>("gantry.process.job.cpu", "s", "CPU time of process-handler attempts run by this process", tags: null, advice: CpuSecondsAdvice);

    /// <summary>Peak memory of a process-handler attempt's whole tree. Tags: queue, type, outcome.</summary>
    public static readonly Histogram<double> AttemptPeakMemory = Meter.CreateHistogram<double>("gantry.process.job.peak_memory", "By", "Peak memory of process-handler attempts run by this process", tags: null, advice: Bytes);
}
