using Gantry.Protocol;

namespace Gantry.Server.Api;

/// <summary>What the HTTP API accepts, with its defaults.</summary>
public sealed record ApiOptions
{
    /// <summary>The default of <see cref="MaxRequestBytes"/>: 10 MiB.</summary>
    public const long MaxRequestBytesDefault = Gantry.Protocol.Wire.WireLimits.MaxRequestBytes;
    /// <summary>Most items one list call returns (its <c>limit</c>).</summary>
    internal const int MaxListDefault = 1000;

    /// <summary>Limits on each job (payload size, batch length, JSON depth).</summary>
    public JobLimits Limits { get; init; } = JobLimits.Default;

    /// <summary>Largest request body. Defaults to 10 MiB.</summary>
    public long MaxRequestBytes { get; init; } = MaxRequestBytesDefault;

    /// <summary>Tokens that may call the API; none means an open API (served on loopback only).</summary>
    public IReadOnlyList<ApiToken> Tokens { get; init; } = [];

    /// <summary>
    /// Host names (the <c>Host</c> header, without port) the API answers besides loopback names and the
    /// address it was reached on: the names a proxy or DNS gives it. <c>*</c> allows any. On an open API
    /// (no tokens) everything else is refused, so that a web page cannot reach it through DNS rebinding.
    /// Behind tokens any host is answered when this is empty; when given, it is enforced.
    /// </summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = [];

    /// <summary>
    /// Web origins (<c>https://app.example.com</c>) allowed to call the API from a browser (CORS). With
    /// none, a state-changing call from another origin is refused.
    /// </summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>The dead-worker timeout of the maintenance this process runs, if it runs it: a worker registering
    /// a heartbeat interval too long for it is refused (<see cref="Gantry.Storage.HeartbeatRule"/>).</summary>
    public TimeSpan? DeadWorkerTimeout { get; init; }

    /// <summary>Payloads and results are left out (null) of what a caller with a <c>read</c> token or dashboard session sees
    /// (<c>--dashboard-hide-payloads</c>): jobs, job events and workflow steps.</summary>
    public bool HidePayloadsFromReaders { get; init; }

    /// <summary>Dashboard sign-ins one client address may try per minute (<c>POST …/dashboard/session</c>); more are answered
    /// 429 until the minute ends. Defaults to 10.</summary>
    public int SignInAttemptsPerMinute { get; init; } = 10;

    /// <summary>Failed authentications (an unknown bearer token, a stale dashboard session) one client address may make per
    /// minute on any endpoint that asks for a token; more are answered 429 until the minute ends. Requests with a valid
    /// token are not counted. Defaults to 10.</summary>
    public int FailedAuthenticationsPerMinute { get; init; } = 10;

    /// <summary>Job types known without a registered worker (built in, configured).</summary>
    public IReadOnlyList<string> KnownJobTypes { get; init; } = [];

    /// <summary>Refuses limits that would turn every request away; runs when the API is added. (Host names and origins are
    /// checked where they are read: the CLI's <c>--allowed-hosts</c>, <c>--cors-origins</c> and config file.)</summary>
    public void Validate()
    {
        Limits.Validate();
        if (MaxRequestBytes < 1) throw new InvalidInputException("max request bytes", $"must be at least 1, got {MaxRequestBytes}");
        if (SignInAttemptsPerMinute < 1) throw new InvalidInputException("sign-in attempts per minute", $"must be at least 1, got {SignInAttemptsPerMinute}");
        if (FailedAuthenticationsPerMinute < 1)
            throw new InvalidInputException("failed authentications per minute", $"must be at least 1, got {FailedAuthenticationsPerMinute}");
        if (DeadWorkerTimeout <= TimeSpan.Zero) throw new InvalidInputException("dead-worker timeout", "must be positive");
    }
}
