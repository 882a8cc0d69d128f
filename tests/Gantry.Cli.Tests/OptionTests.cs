using System.Text.RegularExpressions;

namespace Gantry.Cli.Tests;

/// <summary>
/// Every flag of every command is checked before anything starts: help prints defaults in the form the parser reads,
/// and a value that would spin a core or make no sense is refused with one line naming the flag.
/// </summary>
[RunsLong(13)]
public sealed partial class OptionTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private Task<(int ExitCode, string Stdout, string Stderr)> Gantry(params string[] args) => GantryProcess.RunAsync(_dir.Path, null, args);

    /// <summary>A flag nobody knows: the parse fails after every other flag was read, so nothing starts.</summary>
    private const string Unknown = "--no-such-flag-for-the-test";

    [GeneratedRegex(@"^\s{2}(?<name>--[a-z0-9-]+)(?:, -\w)?(?: <[^>]+>)?\s.*\[default: (?<value>[^\]]*)\]\s*$", RegexOptions.Multiline)]
    private static partial Regex DefaultLine();

    [GeneratedRegex(@"^Commands:\s*$(?<body>(?:\n\s{2}.*)+)", RegexOptions.Multiline)]
    private static partial Regex CommandsSection();

    private async Task<List<string[]>> AllCommandsAsync()
    {
        var found = new List<string[]>();
        var pending = new Queue<string[]>([[]]);
        while (pending.TryDequeue(out var path))
        {
            var (code, help, err) = await Gantry([.. path, "--help"]);
            Assert.True(code == 0, err);
            if (path.Length > 0) found.Add(path);
            if (CommandsSection().Match(help) is { Success: true } section)
                foreach (Match line in Regex.Matches(section.Groups["body"].Value, @"^\s{2}(?<name>[a-z][a-z-]*)\b", RegexOptions.Multiline))
                    pending.Enqueue([.. path, line.Groups["name"].Value]);
        }
        return found;
    }

    [Fact]
    public async Task Help_EveryDefaultOfEveryCommand_ParsesBack()
    {
        var commands = await AllCommandsAsync();
        Assert.Contains(commands, c => c is ["node"]);
        Assert.Contains(commands, c => c is ["jobs", "list"]);
        var checkedDefaults = 0;
        await Task.WhenAll(commands.Select(async command =>
        {
            var (_, help, _) = await Gantry([.. command, "--help"]);
            var args = new List<string>(command);
            foreach (Match m in DefaultLine().Matches(help))
            {
                var value = m.Groups["value"].Value;
                Assert.DoesNotMatch(@"^\d+\.?\d*:\d\d:\d\d|^\[", value); // Not .NET's TimeSpan or collection text.
                if (m.Groups["name"].Value is "--help" or "--version") continue;
                args.AddRange([m.Groups["name"].Value, value]);
                Interlocked.Increment(ref checkedDefaults);
            }
            // Every default given back at once: the parse fails on the unknown flag, and on none of these.
            if (args.Count == command.Length) return;
            // Before the command, so that no command takes it for an argument of its own.
            var (code, _, err) = await Gantry([Unknown, .. args]);
            Assert.True(code == 2, $"gantry {string.Join(' ', args)}: exit {code}\n{err}");
            Assert.Contains(Unknown, err, StringComparison.Ordinal);
            var flags = args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).ToArray();
            var complaints = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("gantry:", StringComparison.Ordinal));
            Assert.True(!complaints.Any(l => flags.Any(f => l.Contains(f + ":", StringComparison.Ordinal) || l.Contains($"'{f}'", StringComparison.Ordinal))),
                $"gantry {string.Join(' ', args)}:\n{err}");
        }));
        Assert.True(checkedDefaults > 40, $"only {checkedDefaults} defaults found in help");
    }

    [Fact]
    public async Task Duration_ShortCompoundAndIsoForms_AreRead_MalformedOnesRefused()
    {
        await ForEachAsync(["30s", "1m30s", "500ms", "1h30m", "2d12h", "1.5s", "45", "PT30S", "PT1M30S"], async value =>
        {
            var (code, _, err) = await Gantry(Unknown, "worker", "--drain-timeout", value);
            Assert.Equal(2, code);
            Assert.True(!err.Contains("--drain-timeout", StringComparison.Ordinal), $"{value}: {err}");
        });
        await ForEachAsync(["30x", "30s1m", "1s1s", "00:00:30", "-5s", ""], async value =>
        {
            var (code, _, err) = await Gantry("worker", "--drain-timeout", value);
            Assert.Equal(2, code);
            Assert.Contains($"--drain-timeout: '{value}' is not a duration", err, StringComparison.Ordinal);
        });
    }

    /// <summary>Runs the checks a few at a time: each starts a process.</summary>
    private static async Task ForEachAsync<T>(IEnumerable<T> items, Func<T, Task> check) =>
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (item, _) => await check(item));

    /// <summary>Every duration and count flag of the long-running commands, with a value it must refuse.</summary>
    private static readonly (string Command, string Flag, string Value)[] Refused =
    [
        // Loop intervals: zero would spin a core.
        ("run", "--rescue-interval", "0"),
        ("server", "--rescue-interval", "0s"),
        ("run", "--poll-interval", "0"),
        ("worker", "--poll-interval", "1ms"),
        ("node", "--poll-interval", "0"),
        ("run", "--heartbeat-interval", "0"),
        ("worker", "--heartbeat-interval", "0ms"),
        ("node", "--heartbeat-interval", "0"),
        ("node", "--restart-backoff", "0"),
        ("node", "--restart-backoff-max", "0"),
        ("node", "--ping-interval", "0"),
        ("node", "--ping-timeout", "0"),
        // Durations that must be positive.
        ("run", "--lease-duration", "0"),
        ("worker", "--lease-duration", "500ms"),
        ("node", "--lease-duration", "0"),
        ("server", "--dead-worker-timeout", "0"),
        ("run", "--dead-worker-timeout", "0"),
        ("node", "--restart-window", "0"),
        // Durations that cannot be negative.
        ("run", "--drain-timeout", "-1s"),
        ("worker", "--cancel-grace", "-1s"),
        ("server", "--retention", "-1d"),
        ("node", "--stable-after", "-1s"),
        ("submit", "--delay", "-1s"),
        ("submit", "--timeout", "-1s"),
        // Counts.
        ("node", "--workers", "0"),
        ("node", "--workers", "-1"),
        ("node", "--workers", "100000"),
        ("node", "--min-workers", "-1"),
        ("node", "--max-workers", "0"),
        ("node", "--max-restarts", "-1"),
        ("node", "--worker-capacity", "0"),
        ("run", "--capacity", "0"),
        ("worker", "--capacity", "-3"),
        ("submit", "--max-attempts", "0"),
        ("jobs logs", "--attempt", "0"),
        ("bench", "--jobs", "0"),
        ("bench", "--concurrency", "0"),
        ("bench", "--rounds", "0"),
        ("bench", "--rounds", "99999999999"),
        ("bench", "--latency-samples", "0"),
        ("bench process", "--samples", "0"),
        ("bench node", "--workers", "0"),
        ("bench workflow", "--steps", "0"),
        ("run", "--capacity", "99999999999"),
        ("queues limit q", "--concurrency", "0"),
        ("queues limit q", "--concurrency", "99999999999"),
        ("queues limit q", "--per-key", "1000001"),
        ("queues keys q", "--limit", "0"),
        ("queues keys q", "--limit", "1001"),
    ];

    [Fact]
    public async Task Option_ValueThatMakesNoSense_IsRefusedBeforeAnythingStarts() =>
        await ForEachAsync(Refused, async row =>
        {
            var (command, flag, value) = row;
            var (code, stdout, err) = await Gantry([.. command.Split(' '), $"{flag}={value}", "--db", _dir.Db]);
            Assert.True(code == 2, $"gantry {command} {flag}={value}: exit {code}\n{err}");
            Assert.Contains($"{flag}: '{value}'", err, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
            Assert.Equal("", stdout);
            Assert.False(File.Exists(_dir.Db), "nothing may be created by a refused command line");
        });

    /// <summary>Flags that are each fine but wrong together are refused at start, with one line and exit 1.</summary>
    [Theory]
    [InlineData("run", "--heartbeat-interval=10s", "--lease-duration=5s", "gantry: --heartbeat-interval: (10s) must be shorter than the lease duration (5s)")]
    [InlineData("node", "--min-workers=3", "--max-workers=2", "--min-workers")]
    [InlineData("node", "--restart-backoff=10s", "--restart-backoff-max=1s", "--restart-backoff")]
    public async Task Options_ThatContradictEachOther_AreRefusedAtStart(string command, string a, string b, string named)
    {
        var (code, stdout, err) = await Gantry(command, a, b, "--db", _dir.Db);
        Assert.Equal(1, code);
        Assert.Contains(named, err, StringComparison.Ordinal);
        Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("", stdout);
    }
}
