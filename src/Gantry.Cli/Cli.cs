
namespace Gantry.Cli;

/// <summary>Exit codes and the one place that turns errors into a line for a person.</summary>
internal static partial class Cli
{
    public const int Ok = 0;
    /// <summary>The request could not be done: bad input, unknown id, unreachable store.</summary>
    public const int Error = 1;
    /// <summary>Bad command line.</summary>
    public const int Usage = 2;
    /// <summary>A waited-for job ended dead.</summary>
    public const int JobDead = 3;
    /// <summary>A waited-for job ended cancelled.</summary>
    public const int JobCancelled = 4;
    public const int Interrupted = 130;

    /// <summary>
    /// The exit code of every command that waits for jobs to end (<c>submit --wait</c>, <c>jobs show --follow</c>):
    /// 3 when any ended dead, else 4 when any was cancelled, else 0. One rule, so scripts can rely on it.
    /// </summary>
    public static int Outcome(IEnumerable<Jobs.JobState> ended)
    {
        var states = ended.ToList();
        return states.Contains(Jobs.JobState.Dead) ? JobDead : states.Contains(Jobs.JobState.Cancelled) ? JobCancelled : Ok;
    }

    /// <summary>The same rule for a waited-for workflow (<c>submit --workflow --wait</c>, <c>workflows show --wait</c>): failed is a dead step.</summary>
    public static int Outcome(Workflows.WorkflowState state) => state switch
    {
        Workflows.WorkflowState.Failed => JobDead,
        Workflows.WorkflowState.Cancelled => JobCancelled,
        _ => Ok,
    };
    public const int InternalError = 70;

    public static async Task<int> InvokeAsync(RootCommand root, string[] args)
    {
        // No response files: `@daily` is a cron expression, not a file of arguments.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0)
        {
            // One line, however many errors: what is wrong, and where to read how to say it.
            var errors = string.Join("; ", parse.Errors.Select(e => Friendly(e.Message)).Distinct());
            Console.Error.WriteLine($"gantry: {errors} (usage: {CommandPath(parse.CommandResult.Command)} --help)");
            return Usage;
        }
        // Commands handle SIGINT/SIGTERM themselves (graceful shutdown), so the parser must not.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }).ConfigureAwait(false);
    }

    /// <summary>The parser's message for a value of the wrong type (generated at build time, as every regex of the CLI: the
    /// Native AOT binaries then carry no regex parser or interpreter).</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'")]
    private static partial System.Text.RegularExpressions.Regex CannotParse();

    /// <summary>Says "a whole number" where the parser says "System.Nullable`1[System.Int32]".</summary>
    private static string Friendly(string message)
    {
        var m = CannotParse().Match(message);
        if (!m.Success) return message;
        var type = m.Groups["type"].Value;
        var expected = type.Contains("Int32") || type.Contains("Int64") ? "a whole number"
            : type.Contains("Double") ? "a number"
            : type.Contains("Boolean") ? "true or false"
            : type.Contains("LogLevel") ? "one of Trace, Debug, Information, Warning, Error, Critical, None"
            : "a valid value";
        return $"{m.Groups["option"].Value}: '{m.Groups["value"].Value}' is not {expected}";
    }

    private static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (var c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
            names.Insert(0, c.Name); // the root: the executable's name (gantry, gantry-worker)
        return string.Join(' ', names);
    }

    /// <summary>Sets an action that reports <see cref="GantryException"/>s as one line, never a stack trace.</summary>
    public static void SetHandler(this Command command, Func<ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, _) =>
        {
            using var cts = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
            Console.CancelKeyPress += onCancel;
            // SIGTERM interrupts as Ctrl-C does (a long-running command's host drains on it too), never as an internal error.
            using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; cts.Cancel(); });
            try
            {
                return await action(parse, cts.Token).ConfigureAwait(false);
            }
            catch (GantryException ex)
            {
                Console.Error.WriteLine($"gantry: {ex.Message}");
                return Error;
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                Console.Error.WriteLine("gantry: interrupted");
                return Interrupted;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"gantry: {ex.Message}");
                return Error;
            }
            catch (Exception ex)
            {
                Console.Error.WriteLine($"gantry: internal error: {ex.GetType().Name}: {ex.Message}");
                if (Environment.GetEnvironmentVariable("GANTRY_DEBUG") == "1") Console.Error.WriteLine(ex);
                else Console.Error.WriteLine("(set GANTRY_DEBUG=1 for details, and please report it)");
                return InternalError;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });

    public static void WriteJson<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(value, type));
}
