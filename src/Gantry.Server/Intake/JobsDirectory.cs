using System.Security.Cryptography;
using System.Text;
using Gantry.Jobs;
using Gantry.Protocol;
using Gantry.Server.Submission;
using Gantry.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Intake;

/// <summary>
/// The file transport: job documents dropped as <c>*.json</c> into a folder are submitted (one
/// object, an array or JSON lines; all or none), moved to <c>accepted/</c>, or to <c>rejected/</c>
/// with a <c>.error.txt</c> that says why; when each job ends its outcome is written to
/// <c>results/&lt;job id&gt;.json</c>. Nothing is lost: a file is moved only after the store took
/// its jobs, and jobs get an idempotency key from the file's name and content (unless they carry
/// their own), so a file submitted again after a crash gives back the same jobs.
/// </summary>
public sealed partial class JobsDirectory(IJobStore store, JobsDirectoryOptions options, ILogger<JobsDirectory> logger, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);
    private readonly SemaphoreSlim _changed = new(0);
    private bool _skipped;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var dir in new[] { options.Path, options.Accepted, options.Rejected, options.Results, options.Processing, options.Pending })
            Directory.CreateDirectory(dir);
        using var watcher = new FileSystemWatcher(options.Path, "*.json") { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite };
        watcher.Created += (_, _) => Signal();
        watcher.Renamed += (_, _) => Signal();
        watcher.Changed += (_, _) => Signal();
        watcher.EnableRaisingEvents = true;
        Log.Watching(logger, Path.GetFullPath(options.Path), Path.GetFullPath(options.Results));

        // Files a crash left half-done first: their jobs may be in the store already, which their keys make harmless.
        foreach (var left in Directory.EnumerateFiles(options.Processing, "*.json")) await SubmitAsync(left, stoppingToken).ConfigureAwait(false);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ScanOnceAsync(stoppingToken).ConfigureAwait(false);
                await WriteResultsOnceAsync(stoppingToken).ConfigureAwait(false);
                // A file still being written is looked at again soon.
                await _changed.WaitAsync(_skipped ? TimeSpan.FromMilliseconds(250) : options.PollInterval, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The store is unreachable or the disk is full: everything stays where it is until the next round.
                Log.Failed(logger, ex);
                try { await Task.Delay(TimeSpan.FromSeconds(2), time, stoppingToken).ConfigureAwait(false); } catch (OperationCanceledException) { break; }
            }
        }
    }

    private void Signal()
    {
        if (_changed.CurrentCount == 0) _changed.Release();
    }

    /// <summary>Takes every complete <c>*.json</c> in the folder and submits it.</summary>
    public async Task<int> ScanOnceAsync(CancellationToken ct)
    {
        var taken = 0;
        _skipped = false;
        foreach (var file in Directory.EnumerateFiles(options.Path, "*.json").Order(StringComparer.Ordinal).ToArray())
        {
            var name = Path.GetFileName(file);
            if (name.StartsWith('.')) continue;
            // Perhaps still being written (by a writer that does not rename into place): a moment later.
            if (time.GetUtcNow() - new DateTimeOffset(File.GetLastWriteTimeUtc(file), TimeSpan.Zero) < Settle) { _skipped = true; continue; }
            var processing = Path.Combine(options.Processing, name);
            try
            {
                File.Move(file, processing, overwrite: false);
            }
            catch (Exception ex) when (ex is FileNotFoundException or IOException)
            {
                continue; // Another process took it, or one of the same name is in progress.
            }
            await SubmitAsync(processing, ct).ConfigureAwait(false);
            taken++;
        }
        return taken;
    }

    private async Task SubmitAsync(string processing, CancellationToken ct)
    {
        var name = Path.GetFileName(processing);
        IReadOnlyList<JobEnqueueResult> results;
        try
        {
            var bytes = await File.ReadAllBytesAsync(processing, ct).ConfigureAwait(false);
            var max = (long)options.Limits.MaxPayloadBytes * 16 + options.Limits.MaxBatch * 4096L;
            if (bytes.Length > max) throw new InvalidInputException(name, $"is {bytes.Length:N0} bytes, over the {max:N0} bytes a submission may have");
            var drafts = JobDocumentReader.ReadDrafts(Encoding.UTF8.GetString(bytes), name, options.Limits);
            if (drafts.Count == 0) throw new InvalidInputException(name, "holds no job document");
            if (drafts.Count > options.Limits.MaxBatch) throw new InvalidInputException(name, $"holds {drafts.Count:N0} jobs, over the batch limit of {options.Limits.MaxBatch:N0}");
            var key = $"jobs-dir:{name}:{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}";
            var jobs = drafts.Select((d, i) => (d.Draft with { IdempotencyKey = d.Draft.IdempotencyKey ?? $"{key}:{i}" }).Validate(options.Limits, d.Where, time)).ToArray();
            results = await Submit.JobsAsync(store, jobs, allowUnknownTypes: false, options.KnownJobTypes, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidInputException)
        {
            var rejected = Unique(options.Rejected, name);
            await File.WriteAllTextAsync(rejected + ".error.txt", ex.Message + Environment.NewLine, ct).ConfigureAwait(false);
            File.Move(processing, rejected);
            Log.Rejected(logger, name, ex.Message);
            return;
        }
        // Markers before the move: a crash in between submits the file again, which gives back the same jobs.
        foreach (var r in results) await File.WriteAllTextAsync(Path.Combine(options.Pending, r.Id.ToString()), name, ct).ConfigureAwait(false);
        File.Move(processing, Unique(options.Accepted, name));
        Log.Accepted(logger, name, results.Count);
    }

    /// <summary>Writes <c>results/&lt;id&gt;.json</c> for every accepted job that has ended.</summary>
    public async Task<int> WriteResultsOnceAsync(CancellationToken ct)
    {
        var written = 0;
        foreach (var marker in Directory.EnumerateFiles(options.Pending).ToArray())
        {
            if (!Guid.TryParse(Path.GetFileName(marker), out var id)) continue;
            var job = await store.JobGetAsync(id, ct).ConfigureAwait(false);
            if (job is null)
            {
                File.Delete(marker); // Cleaned away long ago: nothing left to report.
                continue;
            }
            if (!job.State.IsTerminal()) continue;
            var target = Path.Combine(options.Results, $"{id}.json");
            var temporary = target + ".tmp";
            await File.WriteAllTextAsync(temporary, ResultDocument.Write(job), ct).ConfigureAwait(false);
            File.Move(temporary, target, overwrite: true); // Readers never see half a file.
            File.Delete(marker);
            written++;
        }
        return written;
    }

    /// <summary>A name in <paramref name="dir"/> that is not taken: the file's own, else with a time stamp.</summary>
    private string Unique(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        if (!File.Exists(path)) return path;
        return Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(name)}.{time.GetUtcNow():yyyyMMddTHHmmssfff}.{Guid.NewGuid().ToString("N")[..6]}{Path.GetExtension(name)}");
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Watching {Path} for job documents; results go to {Results}")]
        public static partial void Watching(ILogger logger, string path, string results);

        [LoggerMessage(Level = LogLevel.Information, Message = "Accepted {File}: {Count} job(s)")]
        public static partial void Accepted(ILogger logger, string file, int count);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected {File}: {Reason}")]
        public static partial void Rejected(ILogger logger, string file, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The jobs folder could not be processed; retrying")]
        public static partial void Failed(ILogger logger, Exception ex);
    }
}
