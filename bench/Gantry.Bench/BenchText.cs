namespace Gantry.Bench;

/// <summary>
/// The benchmarks' results as <c>gantry bench</c> prints them for people, one figure per line (without <c>--json</c>);
/// numbers in the current culture (the gantry command's is the invariant one).
/// </summary>
public static class BenchText
{
    /// <summary><c>gantry bench</c>: the drain, its calls and cost, and pickup.</summary>
    public static void Write(TextWriter output, BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"store         {result.Store}");
        output.WriteLine($"enqueue       {result.EnqueueJobsPerSecond:N0} jobs/s ({result.Jobs:N0} jobs in batches)");
        output.WriteLine($"throughput    {result.JobsPerSecond:N0} jobs/s ({result.Jobs:N0} jobs drained in {result.DrainSeconds:0.000}s with {result.Concurrency} slots)");
        if (result.Rounds > 1)
            output.WriteLine($"rounds        median of {result.Rounds}, in order: {string.Join(" / ", result.RoundsJobsPerSecond.Select(x => x.ToString("N0", System.Globalization.CultureInfo.CurrentCulture)))} jobs/s");
        if (result.RawJobsPerSecond is { } rawRate)
            output.WriteLine($"raw loop      gantry {result.JobsPerSecond:N0} jobs/s, raw loop {rawRate:N0} jobs/s, ratio {result.RawRatio:0.00} (median of per-round ratios; raw in order: " +
                $"{string.Join(" / ", result.RawRoundsJobsPerSecond.Select(x => x.ToString("N0", System.Globalization.CultureInfo.CurrentCulture)))} jobs/s)");
        output.WriteLine($"calls         {result.Claims:N0} claims (p50 {result.ClaimP50Ms:0.000} ms, p99 {result.ClaimP99Ms:0.000} ms), {result.ReportBatches:N0} report batches (p50 {result.ReportP50Ms:0.000} ms, p99 {result.ReportP99Ms:0.000} ms) during the drain");
        output.WriteLine($"cpu           {result.EnqueueCpuUsPerJob:0.0} µs per job enqueueing, {result.DrainCpuUsPerJob:0.0} µs per job draining (this process; {result.DrainAllocatedBytesPerJob:N0} bytes allocated per job on the {result.Link} link, {result.DrainGcs} gen0 collections, {result.DrainJitMs:0} ms compiling; after {result.WarmupJobs:N0} warm-up jobs)");
        if (result.DrainAllocations is { } top)
            output.WriteLine($"allocations   {string.Join(", ", top.Select(a => $"{a.Type} {a.Share:P0}"))}");
        output.WriteLine($"pickup        p50 {result.LatencyP50Ms:0.000} ms, p99 {result.LatencyP99Ms:0.000} ms, max {result.LatencyMaxMs:0.000} ms ({result.LatencySamples} samples, enqueue to handler start; the enqueue call itself p50 {result.EnqueueCallP50Ms:0.000} ms)");
        output.WriteLine($"after drain   pickup p50 {result.AfterDrainLatencyP50Ms:0.000} ms, p99 {result.AfterDrainLatencyP99Ms:0.000} ms (on the queue just drained)");
    }

    /// <summary><c>gantry bench http</c>: the two links side by side.</summary>
    public static void Write(TextWriter output, HttpBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"direct (store)   {result.Direct.JobsPerSecond,9:N0} jobs/s   pickup p50 {result.Direct.LatencyP50Ms:0.000} ms, p99 {result.Direct.LatencyP99Ms:0.000} ms   {result.Direct.DrainAllocatedBytesPerJob,6:N0} bytes allocated per job");
        output.WriteLine($"http (protocol)  {result.Http.JobsPerSecond,9:N0} jobs/s   pickup p50 {result.Http.LatencyP50Ms:0.000} ms, p99 {result.Http.LatencyP99Ms:0.000} ms   {result.Http.DrainAllocatedBytesPerJob,6:N0} bytes allocated per job (worker and server in this process)");
        output.WriteLine($"http / direct    {result.HttpToDirectThroughput:0.00}× throughput ({result.Direct.Jobs:N0} jobs, {result.Direct.Concurrency} slots each)");
    }

    /// <summary><c>gantry bench workflow</c>.</summary>
    public static void Write(TextWriter output, WorkflowBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"store         {result.Store}");
        output.WriteLine($"plain jobs    {result.PlainMicrosecondsPerJob:N1} µs per job ({result.Steps:N0} no-op jobs, enqueue to last success, median of {result.Rounds})");
        output.WriteLine($"workflow      {result.WorkflowMicrosecondsPerStep:N1} µs per step (1 → {result.Steps - 2:N0} → 1 fan-out/fan-in, create to last success, median of {result.Rounds})");
        output.WriteLine($"ratio         {result.Ratio:0.00}× a plain job");
    }

    /// <summary><c>gantry bench process</c>.</summary>
    public static void Write(TextWriter output, ProcessBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"process handler    p50 {result.ProcessP50Ms:0.00} ms, p99 {result.ProcessP99Ms:0.00} ms (no limits)");
        output.WriteLine($"with limits        p50 {result.LimitedP50Ms:0.00} ms, p99 {result.LimitedP99Ms:0.00} ms ({result.Isolation})");
        output.WriteLine($"python3 bare       p50 {result.BareP50Ms:0.00} ms, p99 {result.BareP99Ms:0.00} ms (Process.Start, same input)");
    }

    /// <summary><c>gantry bench ipc</c>.</summary>
    public static void Write(TextWriter output, IpcBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"ipc report   p50 {result.IpcP50Us:0.0} µs, p99 {result.IpcP99Us:0.0} µs (worker process → node → in-memory coordinator → back)");
        output.WriteLine($"ipc fetch    p50 {result.FetchP50Us:0.0} µs, p99 {result.FetchP99Us:0.0} µs (one job)");
        output.WriteLine($"raw socket   p50 {result.RawP50Us:0.0} µs, p99 {result.RawP99Us:0.0} µs ({result.MessageBytes} bytes each way)");
    }

    /// <summary><c>gantry bench node --spawn</c>.</summary>
    public static void Write(TextWriter output, NodeSpawnResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"spawn to first claim   p50 {result.P50Ms:0} ms, fastest {result.MinMs:0} ms, slowest {result.MaxMs:0} ms ({result.Samples} spawns of {result.Executable})");
    }

    /// <summary><c>gantry bench node</c>.</summary>
    public static void Write(TextWriter output, NodeBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"in-process worker   {result.InProcessJobsPerSecond:N0} jobs/s (capacity {result.Capacity}; median of {result.Rounds}: {string.Join(", ", result.InProcessRounds.Select(x => x.ToString("N0")))})");
        output.WriteLine($"node, {result.Workers} workers     {result.NodeJobsPerSecond:N0} jobs/s ({result.Ratio:P0} of in-process; median of {result.Rounds}: {string.Join(", ", result.NodeRounds.Select(x => x.ToString("N0")))})");
    }

    /// <summary><c>gantry bench idle</c>.</summary>
    public static void Write(TextWriter output, IdleBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"idle worker   {result.TransactionsPerSecondPerWorker:0.00} transactions/s each ({result.Workers} workers, {result.WindowSeconds:0}s); RSS {string.Join(", ", result.WorkerRssMib.Select(m => $"{m:0.0}"))} MiB");
        if (result.TransactionsPerSecondPerServer is { } perServer)
            output.WriteLine($"server        {perServer:0.00} transactions/s each beside them ({result.Servers} server(s)); RSS {string.Join(", ", result.ServerRssMib.Select(m => $"{m:0.0}"))} MiB");
    }

    /// <summary><c>gantry bench memory</c>.</summary>
    public static void Write(TextWriter output, MemoryBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"store              {result.Store}");
        output.WriteLine($"executable         {result.Executable}");
        if (result.WorkerExecutable != result.Executable) output.WriteLine($"worker executable  {result.WorkerExecutable}");
        output.WriteLine($"gantry run idle    {result.RunIdleRssMib:0.0} MiB RSS (up in {result.RunStartupMs:0} ms)");
        var worker = result.WorkerExecutable == result.Executable ? "" : $", {Path.GetFileName(result.WorkerExecutable.Split(' ')[0])}";
        output.WriteLine($"worker idle        {result.WorkerIdleRssMib:0.0} MiB RSS (up in {result.WorkerStartupMs:0} ms{worker})");
        output.WriteLine($"worker drained     {result.WorkerDrainedRssMib:0.0} MiB RSS after {result.Jobs:N0} jobs in {result.DrainSeconds:0.0}s (peak {result.WorkerPeakRssMib:0.0} MiB{worker})");
        output.WriteLine($"gantry jobs show   p50 {result.JobsShowP50Ms:0} ms, fastest {result.JobsShowMinMs:0} ms ({result.JobsShowRuns} runs, start to exit)");
    }

    /// <summary><c>gantry bench prune</c>.</summary>
    public static void Write(TextWriter output, PruneBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        foreach (var (r, i) in result.Rounds.Select((r, i) => (r, i)))
            output.WriteLine($"round {i + 1}   alone {r.AloneJobsPerSecond,9:N0} jobs/s   beside pruning {r.PruningJobsPerSecond,9:N0} jobs/s   {r.ChangePercent,6:+0.0;-0.0}%   {r.Pruned:N0} pruned meanwhile");
        output.WriteLine($"change        {result.ChangePercent:+0.0;-0.0}% beside pruning, the two orders balanced ({result.History:N0} old jobs, drains of {result.Drain:N0}, cleaner batches of {result.CleanerBatch:N0})");
    }

    /// <summary><c>gantry bench load</c>.</summary>
    public static void Write(TextWriter output, LoadBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"store         {result.Store}");
        output.WriteLine($"drain rate    {result.DrainJobsPerSecond:N0} jobs/s ({result.Concurrency} slots; the rates below are offered for {result.SecondsPerLevel:0}s each, {result.Submit} submits; percentages of {result.PercentOf})");
        output.WriteLine($"offered       accepted     p50 ms    p99 ms  p99.9 ms    db cpu s/1000   process cpu s/1000");
        foreach (var l in result.Levels)
            output.WriteLine($"{l.OfferedJobsPerSecond,7:N0}/s{(l.PercentOfDrain is { } p ? $" {p,3:0}%" : "     ")} {l.AcceptedJobsPerSecond,7:N0}/s {l.LatencyP50Ms,9:0.00} {l.LatencyP99Ms,9:0.00} {l.LatencyP999Ms,9:0.00}    {(l.DatabaseCpuSecondsPer1000Jobs is { } d ? d.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) : "-"),13}   {l.ProcessCpuSecondsPer1000Jobs,18:0.000}");
        output.WriteLine($"database cpu  {result.DatabaseCpu}");
        if (result.Ceiling is { } c)
        {
            output.WriteLine($"submit api    {c.ApiJobsPerSecond:N0} jobs/s with {c.Submitters} submitters, call p50 {c.ApiCallP50Ms:0.00} ms, p99 {c.ApiCallP99Ms:0.00} ms (POST /api/v1/jobs; rounds {string.Join(" / ", c.ApiRounds.Select(x => x.ToString("N0", System.Globalization.CultureInfo.CurrentCulture)))})");
            output.WriteLine($"submit min    {c.MinimalJobsPerSecond:N0} jobs/s with {c.Submitters} submitters, call p50 {c.MinimalCallP50Ms:0.00} ms, p99 {c.MinimalCallP99Ms:0.00} ms (a minimal endpoint, the same insert; rounds {string.Join(" / ", c.MinimalRounds.Select(x => x.ToString("N0", System.Globalization.CultureInfo.CurrentCulture)))})");
        }
        output.WriteLine($"machine       {result.Machine}");
    }

    /// <summary><c>gantry bench stats</c>.</summary>
    public static void Write(TextWriter output, StatsBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"store         {result.Store}");
        output.WriteLine($"history       {result.History:N0} finished jobs in {result.Queues} queues ({result.FillSeconds:0.0}s to make), {result.JobsCounted:N0} counted");
        output.WriteLine($"queue stats   p50 {result.P50Ms:0.000} ms, p99 {result.P99Ms:0.000} ms, max {result.MaxMs:0.000} ms ({result.Reads} reads)");
    }

    /// <summary><c>gantry bench dashboard</c>.</summary>
    public static void Write(TextWriter output, DashboardBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(result);
        output.WriteLine($"store         {result.Store}");
        output.WriteLine($"history       {result.History:N0} finished jobs ({result.FillSeconds:0.0}s to make)");
        foreach (var c in result.Calls)
            output.WriteLine($"{c.View,-48} p50 {c.P50Ms,8:0.000} ms   p99 {c.P99Ms,8:0.000} ms   {c.Rows,5} rows");
        output.WriteLine($"{"first view (page, files, session, overview)",-48} p50 {result.FirstViewP50Ms,8:0.000} ms   p99 {result.FirstViewP99Ms,8:0.000} ms");
    }
}
