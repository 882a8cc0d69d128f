namespace Gantry.Worker.Links.Ipc;

/// <summary>
/// The type byte of an IPC frame (docs/ipc.md). Requests carry an id that their response repeats;
/// a response's type is its request's with <see cref="ResponseBit"/> set. One-way messages carry id 0.
/// </summary>
public enum IpcMessageType : byte
{
    // Worker → node.
    /// <summary>Request: the worker introduces itself (local id, pid, capacity, queues, job types).</summary>
    Hello = 0x01,
    /// <summary>Request: claim jobs for the worker's free slots; answered with <see cref="Jobs"/>.</summary>
    Fetch = 0x02,
    /// <summary>Request: answered when new jobs may be claimable or the timeout passed.</summary>
    WaitJobs = 0x03,
    /// <summary>Request: a batch of reports (progress, checkpoint, log, succeeded, failed, cancelled, requeued).</summary>
    Report = 0x04,
    /// <summary>Request: the attempts the worker holds; answered with the ones it lost.</summary>
    Heartbeat = 0x05,
    /// <summary>One-way: these attempts started running (before it, a crash requeues them; after it, it fails them).</summary>
    Started = 0x06,
    /// <summary>One-way: the worker stops (deregisters).</summary>
    Bye = 0x07,
    /// <summary>Request from <c>gantry node status</c>: answered with the node's status as JSON.</summary>
    Status = 0x08,

    // Node → worker.
    /// <summary>Request: a health check, answered with an empty response at once.</summary>
    Ping = 0x40,
    /// <summary>One-way: stop; graceful drains first (up to the drain timeout), otherwise running jobs are requeued now.</summary>
    Shutdown = 0x41,
    /// <summary>One-way: stop one job (its cancellation was requested).</summary>
    CancelJob = 0x42,
    /// <summary>One-way: claim nothing new until resumed.</summary>
    Pause = 0x43,
    /// <summary>One-way: claim again.</summary>
    Resume = 0x44,

    /// <summary>Set on a response's type.</summary>
    ResponseBit = 0x80,
    /// <summary>Response: the request failed; the body is a message (the link to the coordinator is down, …).</summary>
    Error = 0xFF,
}
