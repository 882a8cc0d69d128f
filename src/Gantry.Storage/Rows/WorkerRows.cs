using System.Data.Common;

namespace Gantry.Storage;

/// <summary>A worker's row as both stores select and read it: <see cref="Columns"/> in the order <see cref="Read"/> reads them.</summary>
internal static class WorkerRows<TStore> where TStore : struct, IStoreColumns
{
    public static readonly string Columns = $"""
        id, host, pid, version, {TStore.JsonText("queues")}, capacity, {TStore.JsonText("job_types")}, {TStore.JsonText("capabilities")},
        {TStore.JsonText("tags")}, state, started_at, last_seen_at, running_jobs, {TStore.JsonText("managed")}, name
        """;

    public static WorkerRecord Read(DbDataReader r) => new()
    {
        Registration = new WorkerRegistration
        {
            Id = r.GetString(0),
            Name = r.GetStringOrNull(14),
            Host = r.GetString(1),
            ProcessId = r.GetInt32(2),
            Version = r.GetString(3),
            Queues = StoreJson.QueuesFromJson(r.GetString(4)),
            Capacity = r.GetInt32(5),
            JobTypes = StoreJson.ListFromJson(r.GetStringOrNull(6)),
            Capabilities = StoreJson.ListFromJson(r.GetStringOrNull(7)),
            Tags = StoreJson.TagsFromJson(r.GetStringOrNull(8)),
        },
        State = r.GetString(9),
        StartedAt = TStore.Time(r, 10),
        LastSeenAt = TStore.Time(r, 11),
        RunningJobs = r.GetInt32(12),
        Managed = StoreJson.ManagedFromJson(r.GetStringOrNull(13)),
    };
}
