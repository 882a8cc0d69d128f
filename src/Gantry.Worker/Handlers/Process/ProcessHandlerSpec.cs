namespace Gantry.Worker.Handlers.Process;

/// <summary>
/// A job type bound to a command in the configuration (never in the job): the program runs once
/// per attempt, reads the job context from stdin and writes JSON lines to stdout.
/// </summary>
public sealed record ProcessHandlerSpec
{
    /// <summary>The program and its arguments, passed as they are: no shell sees them.</summary>
    public required IReadOnlyList<string> Command { get; init; }

    /// <summary>Where the program runs. Defaults to the worker's working directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Names of the worker's environment variables passed on. Nothing else is (store credentials, tokens stay behind).</summary>
    public IReadOnlyList<string> Env { get; init; } = ["PATH"];

    /// <summary>Timeout for jobs of this type that set none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Resources one attempt may use; a job may tighten them, never widen them. Defaults to no limit but <see cref="ProcessLimits.OutputKb"/>.</summary>
    public ProcessLimits Limits { get; init; } = new();
}

/// <summary>Resources one attempt may use. Null means unlimited.</summary>
public sealed record ProcessLimits
{
    /// <summary>The default <see cref="OutputKb"/>: 256 KB.</summary>
    public const int OutputKbDefault = 256;

    /// <summary>Memory of the whole process tree, in MB.</summary>
    public int? MemoryMb { get; init; }

    /// <summary>CPU share, in cores (0.5 = half a core).</summary>
    public double? Cpu { get; init; }

    /// <summary>Most processes the tree may hold at once (a fork bomb stops here).</summary>
    public int? Processes { get; init; }

    /// <summary>Output kept from stdout and stderr together, in KB; the rest is cut, and the log says so. Defaults to 256.</summary>
    public int OutputKb { get; init; } = OutputKbDefault;

    /// <summary>The limits a job may tighten (memory, CPU, processes), as its document names them.</summary>
    public Gantry.Jobs.ResourceLimits Resources => new() { MemoryMb = MemoryMb, Cpu = Cpu, Processes = Processes };

    /// <summary>These limits tightened by a job's own (never widened).</summary>
    public ProcessLimits Within(Gantry.Jobs.ResourceLimits? job)
    {
        if (job is null) return this;
        var tight = Resources.Within(job);
        return this with { MemoryMb = tight.MemoryMb, Cpu = tight.Cpu, Processes = tight.Processes };
    }

    /// <summary>Fills what these limits leave unset from <paramref name="defaults"/> (the configuration's <c>process_defaults</c>).</summary>
    public ProcessLimits Or(ProcessLimits defaults) => this with
    {
        MemoryMb = MemoryMb ?? defaults.MemoryMb,
        Cpu = Cpu ?? defaults.Cpu,
        Processes = Processes ?? defaults.Processes,
        OutputKb = OutputKb == OutputKbDefault ? defaults.OutputKb : OutputKb,
    };
}
