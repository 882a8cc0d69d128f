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
internal sealed partial class JobsDirectory(IJobStore store, JobsDirectoryOptions options, ILogger<JobsDirectory> logger, TimeProvider time)
    : ResilientService(logger, time)
{
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(200);
    private readonly SemaphoreSlim _changed = new(0);
    private bool _skipped;

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        foreach (var dir in new[] { options.Path, options.Accepted, options.Done, options.Failed, options.Rejected, options.Results, options.Processing, options.Pending })
            Directory.CreateDirectory(dir);
        using var watcher = new FileSystemWatcher(options.Path, "*.json") { NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite };
        watcher.Created += (_, _) => Signal();
        watcher.Renamed += (_, _) => Signal();
        watcher.Changed += (_, _) => Signal();
        watcher.EnableRaisingEvents = true;
        Log.Watching(Logger, Path.GetFullPath(options.Path), Path.GetFullPath(options.Results));

        // Entries a crash left half-done first: their jobs may be in the store already, which their keys make harmless.
        // A store that cannot be reached ends this run; the service starts again after a pause, and so does this.
        foreach (var left in Directory.EnumerateFileSystemEntries(options.Processing).Order(StringComparer.Ordinal).ToArray())
            await SubmitAsync(left, stoppingToken).ConfigureAwait(false);
        while (!stoppingToken.IsCancellationRequested)
        {
            await ScanOnceAsync(stoppingToken).ConfigureAwait(false);
            await WriteResultsOnceAsync(stoppingToken).ConfigureAwait(false);
            // A file still being written is looked at again soon.
            await _changed.WaitAsync(_skipped ? TimeSpan.FromMilliseconds(250) : options.PollInterval, stoppingToken).ConfigureAwait(false);
        }
    }

    private void Signal()
    {
        if (_changed.CurrentCount == 0) _changed.Release();
    }

    /// <summary>Takes every complete <c>*.json</c> in the folder and submits it; anything else of that name is rejected.</summary>
    public async Task<int> ScanOnceAsync(CancellationToken ct)
    {
        var taken = 0;
        _skipped = false;
        foreach (var path in Directory.EnumerateFileSystemEntries(options.Path, "*.json").Order(StringComparer.Ordinal).ToArray())
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith('.')) continue;
            var kind = EntryKinds.Of(path);
            // A regular file perhaps still being written (by a writer that does not rename into place): a moment later.
            if (kind == EntryKind.RegularFile && Time.GetUtcNow() - new DateTimeOffset(File.GetLastWriteTimeUtc(path), TimeSpan.Zero) < Settle) { _skipped = true; continue; }
            var processing = Path.Combine(options.Processing, name);
            // A rename moves the entry itself: a link stays a link, a FIFO is never opened.
            if (!EntryKinds.Move(path, processing, kind)) continue; // Another process took it, or one of the same name is in progress.
            await SubmitAsync(processing, ct).ConfigureAwait(false);
            taken++;
        }
        return taken;
    }

    /// <summary>
    /// Submits the entry taken into <c>.processing/</c>, or rejects it with the reason. Only a store that cannot be reached
    /// leaves it there (and throws); whatever is wrong with the entry itself sends it to <c>rejected/</c>, so one bad file
    /// never holds up the folder nor stops the process.
    /// </summary>
    private async Task SubmitAsync(string processing, CancellationToken ct)
    {
        var name = Path.GetFileName(processing);
        IReadOnlyList<JobEnqueueResult> results;
        try
        {
            var jobs = await ReadAsync(processing, name, ct).ConfigureAwait(false);
            if (jobs is null) return; // Gone: another process took it.
            results = await SubmitOrBlameAsync(jobs, name, ct).ConfigureAwait(false);
        }
        catch (InvalidInputException ex)
        {
            await RejectAsync(processing, name, ex.Message, ct).ConfigureAwait(false);
            return;
        }
        // Markers before the move: a crash in between submits the file again, which gives back the same jobs.
        var accepted = Unique(options.Accepted, name);
        foreach (var r in results) await File.WriteAllTextAsync(Path.Combine(options.Pending, r.Id.ToString()), Path.GetFileName(accepted), ct).ConfigureAwait(false);
        File.Move(processing, accepted);
        Log.Accepted(Logger, name, results.Count);
    }

    /// <summary>The entry's jobs, validated; null when it is gone. Throws <see cref="InvalidInputException"/> for anything unreadable.</summary>
    private async Task<NewJob[]?> ReadAsync(string processing, string name, CancellationToken ct)
    {
        var kind = EntryKinds.Of(processing);
        if (kind == EntryKind.Missing) return null;
        if (kind != EntryKind.RegularFile) throw new InvalidInputException(name, EntryKinds.Describe(kind));
        var max = (long)options.Limits.MaxPayloadBytes * 16 + options.Limits.MaxBatch * 4096L;
        byte[] bytes;
        try
        {
            var length = new FileInfo(processing).Length;
            if (length > max) throw new InvalidInputException(name, $"is {length:N0} bytes, over the {max:N0} bytes a submission may have");
            bytes = await File.ReadAllBytesAsync(processing, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(name, $"cannot be read: {ex.Message}");
        }
        if (bytes.Length > max) throw new InvalidInputException(name, $"is {bytes.Length:N0} bytes, over the {max:N0} bytes a submission may have");
        var drafts = JobDocumentReader.ReadDrafts(Encoding.UTF8.GetString(bytes), name, options.Limits);
        if (drafts.Count == 0) throw new InvalidInputException(name, "holds no job document");
        if (drafts.Count > options.Limits.MaxBatch) throw new InvalidInputException(name, $"holds {drafts.Count:N0} jobs, over the batch limit of {options.Limits.MaxBatch:N0}");
        var key = $"jobs-dir:{name}:{Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]}";
        return drafts.Select((d, i) => (d.Draft with { IdempotencyKey = d.Draft.IdempotencyKey ?? $"{key}:{i}" }).Validate(options.Limits, d.Where, Time)).ToArray();
    }

    /// <summary>
    /// Submits; when the store refuses these jobs twice while it answers otherwise (e.g. a text PostgreSQL cannot
    /// store), the file is to blame and an <see cref="InvalidInputException"/> says why. An unreachable store throws as it is.
    /// </summary>
    private async Task<IReadOnlyList<JobEnqueueResult>> SubmitOrBlameAsync(NewJob[] jobs, string name, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await Submit.JobsAsync(store, jobs, allowUnknownTypes: false, options.KnownJobTypes, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is GantryException and not InvalidInputException && !ct.IsCancellationRequested)
            {
                await store.QueueBacklogAsync(ct).ConfigureAwait(false); // Throws on its own when the store is down.
                if (attempt >= 2) throw new InvalidInputException(name, $"the store refused its jobs: {ex.Message}");
            }
        }
    }

    private async Task RejectAsync(string processing, string name, string reason, CancellationToken ct)
    {
        var rejected = Unique(options.Rejected, name);
        await File.WriteAllTextAsync(rejected + ".error.txt", reason + Environment.NewLine, ct).ConfigureAwait(false);
        if (!EntryKinds.Move(processing, rejected, EntryKinds.Of(processing))) throw new IOException($"{name} could not be moved to {rejected}");
        Log.Rejected(Logger, name, reason);
    }

    /// <summary>
    /// Writes <c>results/&lt;id&gt;.json</c> for every accepted job that has ended, and files each document when its jobs
    /// have: to <c>failed/</c> as soon as one of them ends dead or cancelled, to <c>done/</c> when all of them succeeded.
    /// </summary>
    public async Task<int> WriteResultsOnceAsync(CancellationToken ct)
    {
        var written = 0;
        var waiting = new HashSet<string>(StringComparer.Ordinal);
        var ended = new HashSet<string>(StringComparer.Ordinal);
        foreach (var marker in Directory.EnumerateFiles(options.Pending).ToArray())
        {
            if (!Guid.TryParse(Path.GetFileName(marker), out var id)) continue;
            var document = Path.GetFileName((await File.ReadAllTextAsync(marker, ct).ConfigureAwait(false)).Trim());
            var job = await store.JobGetAsync(id, ct).ConfigureAwait(false);
            if (job is null)
            {
                File.Delete(marker); // Cleaned away long ago: nothing left to report.
                ended.Add(document);
                continue;
            }
            if (!job.State.IsTerminal())
            {
                waiting.Add(document);
                continue;
            }
            var target = Path.Combine(options.Results, $"{id}.json");
            var temporary = target + ".tmp";
            await File.WriteAllTextAsync(temporary, ResultDocument.Write(job), ct).ConfigureAwait(false);
            File.Move(temporary, target, overwrite: true); // Readers never see half a file.
            if (job.State != JobState.Succeeded) FileAway(document, options.Failed);
            File.Delete(marker);
            ended.Add(document);
            written++;
        }
        foreach (var document in ended.Except(waiting)) FileAway(document, options.Done);
        return written;
    }

    /// <summary>Moves an accepted document on, once: a document already filed as failed stays there.</summary>
    private void FileAway(string document, string dir)
    {
        if (document.Length == 0) return;
        var accepted = Path.Combine(options.Accepted, document);
        if (!File.Exists(accepted)) return;
        File.Move(accepted, Unique(dir, document));
    }

    /// <summary>A name in <paramref name="dir"/> that is not taken: the file's own, else with a time stamp.</summary>
    private string Unique(string dir, string name)
    {
        var path = Path.Combine(dir, name);
        if (!File.Exists(path)) return path;
        return Path.Combine(dir, $"{Path.GetFileNameWithoutExtension(name)}.{Time.GetUtcNow():yyyyMMddTHHmmssfff}.{Guid.NewGuid().ToString("N")[..6]}{Path.GetExtension(name)}");
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Watching {Path} for job documents; results go to {Results}")]
        public static partial void Watching(ILogger Logger, string path, string results);

        [LoggerMessage(Level = LogLevel.Information, Message = "Accepted {File}: {Count} job(s)")]
        public static partial void Accepted(ILogger Logger, string file, int count);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected {File}: {Reason}")]
        public static partial void Rejected(ILogger Logger, string file, string reason);

        [LoggerMessage(Level = LogLevel.Warning, Message = "The jobs folder could not be processed; retrying")]
        public static partial void Failed(ILogger Logger, Exception ex);
    }
}
