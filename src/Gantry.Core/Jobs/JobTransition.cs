namespace Gantry.Jobs;

/// <summary>The events that move a job between states. Each store update names one.</summary>
public enum JobTransition
{
    /// <summary>A delayed or backed-off job's <c>run_at</c> has come (scheduler).</summary>
    Promote,
    /// <summary>A workflow step's dependencies have all succeeded.</summary>
    Release,
    /// <summary>A worker claims the job: attempt + 1, lease taken.</summary>
    Claim,
    /// <summary>The handler returned.</summary>
    Succeed,
    /// <summary>The attempt failed and attempts are left: back off, then run again.</summary>
    FailAndRetry,
    /// <summary>The attempt failed and none are left.</summary>
    FailForGood,
    /// <summary>The worker gave the job back unfinished (graceful shutdown, drain): the attempt does not count.</summary>
    Requeue,
    /// <summary>The lease expired: the worker is presumed lost; the job is retried or dead.</summary>
    Rescue,
    /// <summary>A user cancelled it (a running job ends cancelled when its worker confirms, or is rescued).</summary>
    Cancel,
    /// <summary>An operator re-opens a dead or cancelled job (a workflow step whose dependencies have not all succeeded waits for them).</summary>
    Retry,
}
