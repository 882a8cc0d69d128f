using Gantry.Jobs;
using Gantry.Storage.Sqlite.Native;

namespace Gantry.Storage.Sqlite;

/// <summary>
/// Reads claimed rows into <see cref="ClaimedJob"/>s for the plain claim and the limited one. It remembers the last
/// type, queue and payload it read: the next job's, when the same, are the same strings (a batch of like jobs
/// allocates each once). Touched only under the store's write lock, so not synchronised itself.
/// </summary>
internal sealed class ClaimedJobReader
{
    private ClaimTexts _texts;

    private struct ClaimTexts
    {
        public string? Type, Queue, Payload;
    }

    /// <summary>The job of the claim's current row (columns of <see cref="ClaimStatements.Returning"/>), held by
    /// <paramref name="workerId"/>.</summary>
    public ClaimedJob Read(RawStatement r, string workerId) => new()
    {
        Id = r.GetGuid(1),
        Type = r.GetString(2, ref _texts.Type),
        Queue = r.GetString(3, ref _texts.Queue),
        Priority = r.GetInt32(4),
        Payload = r.GetString(5, ref _texts.Payload),
        Attempt = r.GetInt32(6),
        MaxAttempts = r.GetInt32(7),
        Timeout = r.GetInt64OrNull(8) is { } t ? TimeSpan.FromMilliseconds(t) : null,
        Backoff = Backoff.Of(TimeSpan.FromMilliseconds(r.GetInt64(9)), TimeSpan.FromMilliseconds(r.GetInt64(10))),
        Tags = r.IsNull(11) ? NewJob.NoTags : StoreJson.TagsFromJson(r.GetString(11)),
        CreatedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(12)),
        Checkpoint = r.GetBytesOrNull(13),
        CheckpointAt = r.GetInt64OrNull(14) is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null,
        CheckpointInterval = r.GetInt64OrNull(15) is { } ci ? TimeSpan.FromMilliseconds(ci) : null,
        DueAt = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64OrNull(16) ?? r.GetInt64(12)),
        WorkerId = workerId,
        TraceParent = r.GetStringOrNull(18),
        TraceState = r.GetStringOrNull(19),
        Limits = ResourceLimits.FromJson(r.GetStringOrNull(20)),
    };
}
