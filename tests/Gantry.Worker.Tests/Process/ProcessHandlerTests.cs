using System.Diagnostics;
using System.Text.Json;
using Gantry.Jobs;
using Gantry.Storage;
using Gantry.Worker.Handlers.Process;
using Gantry.Worker.Isolation;
using Gantry.Worker.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Gantry.Worker.Tests.Process;

/// <summary>Process handlers with real programs (python3, node, bash) and the machine's real cgroups.</summary>
public sealed class ProcessHandlerTests : WorkerTestBase
{
    // Unique sleep durations mark each test's processes, so they can be counted with pgrep.
    private readonly string _marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100, 999)}";

    protected override void ConfigureServices(IServiceCollection services)
    {
        Directory.CreateDirectory(Dir);
        Script("hello.py", """
            import json, sys
            job = json.load(sys.stdin)
            for i in (1, 2, 3):
                print(json.dumps({"progress": 33.4 * i, "message": f"step {i}"}), flush=True)
            print("plain text goes to the log")
            print(json.dumps({"result": {"hello": job["payload"].get("name"), "attempt": job["attempt"], "id": job["id"]}}))
            """);
        Script("hello.js", """
            let input = "";
            process.stdin.on("data", c => input += c);
            process.stdin.on("end", () => {
              const job = JSON.parse(input);
              console.log(JSON.stringify({ progress: 50, message: "half" }));
              console.log(JSON.stringify({ result: { hello: job.payload.name, runtime: "node" } }));
            });
            """);
        Script("echo_payload.py", """
            import json, sys
            job = json.load(sys.stdin)
            print(json.dumps({"result": job["payload"]}))
            """);
        Script("deps.py", """
            import json, sys
            job = json.load(sys.stdin)
            print(json.dumps({"result": job["dependencies"]}))
            """);
        Script("env.py", """
            import json, os, sys
            json.load(sys.stdin)
            print(json.dumps({"result": sorted(os.environ.keys())}))
            """);
        Script("hog.py", """
            import sys, json
            json.load(sys.stdin)
            blocks = []
            for _ in range(400):
                blocks.append(bytearray(1024 * 1024))
            print(json.dumps({"result": "allocated 400 MB"}))
            """);
        // 200 MiB written page by page (an untouched allocation would cost no memory), then held.
        Script("eat.py", """
            import sys, json
            json.load(sys.stdin)
            block = bytearray(200 * 1024 * 1024)
            for i in range(0, len(block), 4096):
                block[i] = 1
            print(json.dumps({"result": len(block)}))
            """);
        // About 1.5 s of CPU time, whatever the machine's speed.
        Script("burn.py", """
            import sys, json, time
            json.load(sys.stdin)
            n = 0
            while time.process_time() < 1.5:
                n += 1
            print(json.dumps({"result": n}))
            """);
        Script("fail.py", """
            import sys
            sys.stdin.read()
            print("first line", file=sys.stderr)
            print("ValueError: the invoice is missing", file=sys.stderr)
            sys.exit(3)
            """);
        Script("ask.py", """
            import json, sys
            job = json.load(sys.stdin)
            print(json.dumps(job["payload"]["ask"]), flush=True)
            print("the card was declined", file=sys.stderr)
            sys.exit(1)
            """);
        Script("trace.py", """
            import json, os, sys
            json.load(sys.stdin)
            print(json.dumps({"result": {"traceparent": os.environ.get("TRACEPARENT")}}))
            """);
        Script("noisy.py", """
            import sys, json
            json.load(sys.stdin)
            for _ in range(20000):
                print("x" * 100, file=sys.stderr)
            print(json.dumps({"result": "done"}))
            """);
        Script("tree.sh", $"""
            cat > /dev/null
            sleep {_marker} &
            sleep {_marker} &
            sleep {_marker}
            """);
        Script("forks.sh", $"""
            cat > /dev/null
            for i in $(seq 1 200); do sleep {_marker} 2>/dev/null & done
            sleep {_marker}
            """);
        // Ignores SIGTERM (notes it and carries on); only SIGKILL stops it.
        Script("stubborn.sh", $"""
            cat > /dev/null
            trap 'echo term >> stubborn.{_marker}.log' TERM
            while :; do sleep {_marker}; done
            """);

        Script("exit.sh", """
            read -r job
            case "$job" in
              *'"how":"kill"'*) kill -KILL $$ ;;
              *'"how":"segv"'*) kill -SEGV $$ ;;
              *'"code":255'*) exit 255 ;;
              *'"code":137'*) exit 137 ;;
              *) exit 129 ;;
            esac
            """);

        // A line that is JSON but escapes a lone surrogate (not text): kept as a log line, not read as progress.
        Script("lone.sh", """
            read -r job
            printf '%s\n' '{"progress": 50, "message": "\ud800"}'
            printf '%s\n' '{"result": {"ok": true}}'
            """);

        Add(services, "sh-exit", ["bash", "exit.sh"], new());
        Add(services, "sh-lone", ["bash", "lone.sh"], new());
        Add(services, "sh-stubborn", ["bash", "stubborn.sh"], new());
        Add(services, "py-hello", ["python3", "hello.py"], new ProcessLimits { MemoryMb = 128, Processes = 32 });
        Add(services, "node-hello", ["node", "hello.js"], new ProcessLimits { MemoryMb = 512, Processes = 64 });
        Add(services, "py-echo", ["python3", "echo_payload.py"], new());
        Add(services, "py-deps", ["python3", "deps.py"], new());
        Add(services, "py-env", ["python3", "env.py"], new(), env: ["PATH", "GANTRY_TEST_ALLOWED"]);
        Add(services, "py-hog", ["python3", "hog.py"], new ProcessLimits { MemoryMb = 64 });
        Add(services, "py-fail", ["python3", "fail.py"], new());
        Add(services, "py-eat", ["python3", "eat.py"], new ProcessLimits { MemoryMb = 512 });
        Add(services, "py-burn", ["python3", "burn.py"], new());
        Add(services, "py-ask", ["python3", "ask.py"], new());
        Add(services, "py-trace", ["python3", "trace.py"], new());
        Add(services, "py-noisy", ["python3", "noisy.py"], new ProcessLimits { OutputKb = 4 });
        Add(services, "sh-tree", ["bash", "tree.sh"], new(), timeout: TimeSpan.FromSeconds(1));
        Add(services, "sh-forks", ["bash", "forks.sh"], new ProcessLimits { Processes = 16 }, timeout: TimeSpan.FromSeconds(3));
    }

    private void Script(string name, string text) => File.WriteAllText(Path.Combine(Dir, name), text + "\n");

    private void Add(IServiceCollection services, string type, string[] command, ProcessLimits limits, string[]? env = null, TimeSpan? timeout = null) =>
        services.AddGantryProcessHandler(type, new ProcessHandlerSpec
        {
            Command = command,
            WorkingDirectory = Dir,
            Env = env ?? ["PATH", "LANG", "HOME", "PYENV_ROOT"],
            Limits = limits,
            Timeout = timeout,
        });

    private async Task<JobRecord> RunToEndAsync(string type, string payload = "{}", int maxAttempts = 1)
    {
        var id = await EnqueueAsync(Job(type, payload) with { MaxAttempts = maxAttempts });
        return await WaitForAsync(id, j => j.State.IsTerminal(), "finished");
    }

    private int CountMarked() =>
        System.Diagnostics.Process.GetProcessesByName("sleep").Count(p =>
        {
            try { return File.ReadAllText($"/proc/{p.Id}/cmdline").Contains(_marker, StringComparison.Ordinal); }
            catch (IOException) { return false; }
        });

    [Fact]
    public async Task Python_ProgressAndResult_Stored()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-hello", """{"name":"Ada"}""");
        Assert.Equal(JobState.Succeeded, job.State);
        using var result = JsonDocument.Parse(job.Result!);
        Assert.Equal("Ada", result.RootElement.GetProperty("hello").GetString());
        Assert.Equal(1, result.RootElement.GetProperty("attempt").GetInt32());
        Assert.Equal(job.Id.ToString(), result.RootElement.GetProperty("id").GetString());
    }

    [Fact]
    public async Task LineEscapingALoneSurrogate_KeptAsALogLine_TheJobGoesOn()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("sh-lone");
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal("""{"ok":true}""", job.Result!.Replace(" ", "", StringComparison.Ordinal));
        Assert.Contains(await Store.JobLogsAsync(job.Id, Ct), l => l.Line.Message.Contains("\\ud800", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Output_StoredWithTheAttempt()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-fail", maxAttempts: 1);
        var lines = await Store.JobLogsAsync(job.Id, Ct);
        Assert.Contains(lines, l => l.Attempt == 1 && l.Line.Message == "[stderr] ValueError: the invoice is missing");

        job = await RunToEndAsync("py-hello", """{"name":"Ada"}""");
        Assert.Contains(await Store.JobLogsAsync(job.Id, Ct), l => l.Line.Message == "[stdout] plain text goes to the log");
    }

    [Fact]
    public async Task WorkflowStep_ReceivesDependencyResultsOnStdin()
    {
        await StartWorkerAsync();
        var flow = new Gantry.Workflows.NewWorkflow
        {
            Id = JobIds.New(),
            Name = "stdin",
            Steps =
            [
                new("fetch", Job(Gantry.Worker.Handlers.BuiltIn.BuiltInHandlers.Echo, """{"rows":3}"""), []),
                new("report", Job("py-deps"), ["fetch"]),
            ],
        };
        var created = await Store.WorkflowCreateAsync(new Gantry.Storage.WorkflowCreateParams(flow), Ct);

        var report = await WaitForAsync(created.Steps[1].JobId, j => j.State.IsTerminal(), "finished");

        Assert.Equal(JobState.Succeeded, report.State);
        using var result = JsonDocument.Parse(report.Result!);
        Assert.Equal(3, result.RootElement.GetProperty("fetch").GetProperty("rows").GetInt32());
    }

    [Fact]
    public async Task Node_Result_Stored()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("node-hello", """{"name":"Grace"}""");
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal("""{"hello":"Grace","runtime":"node"}""", job.Result);
    }

    [Fact]
    public async Task Progress_WhileRunning_VisibleInStore()
    {
        await StartWorkerAsync();
        var id = await EnqueueAsync("py-hello", """{"name":"Ada"}""");
        var job = await WaitForAsync(id, j => j.State == JobState.Succeeded, "succeeded");
        Assert.Equal(100, job.Progress);
    }

    [Fact]
    public async Task Payload_ShellMetacharacters_ArriveByteForByteAndRunNothing()
    {
        await StartWorkerAsync();
        var canary = Path.Combine(Path.GetTempPath(), $"gantry-pwned-{Guid.NewGuid():N}");
        var payload = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["s"] = $"; touch {canary} && $(touch {canary}) `touch {canary}` | tee {canary} > {canary} < /etc/passwd ' \" \\ \n $HOME *",
        });
        var job = await RunToEndAsync("py-echo", payload);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal(JsonDocument.Parse(payload).RootElement.GetProperty("s").GetString(), JsonDocument.Parse(job.Result!).RootElement.GetProperty("s").GetString());
        Assert.False(File.Exists(canary));
    }

    [Fact]
    public async Task Environment_OnlyAllowListedVariablesPassed()
    {
        Environment.SetEnvironmentVariable("GANTRY_TEST_SECRET", "hunter2");
        Environment.SetEnvironmentVariable("GANTRY_TEST_ALLOWED", "yes");
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-env");
        var names = JsonSerializer.Deserialize<string[]>(job.Result!)!;
        Assert.Contains("GANTRY_TEST_ALLOWED", names);
        Assert.Contains("PATH", names);
        Assert.DoesNotContain("GANTRY_TEST_SECRET", names);
    }

    [Fact]
    public async Task FailureAskingNoRetry_DeadAfterOneAttempt()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-ask", """{"ask":{"retry":false}}""", maxAttempts: 3);
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal(1, job.Attempt);
        Assert.Contains("the card was declined", Assert.Single(job.Errors).Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailureAskingRetryAfter_ScheduledThen()
    {
        await StartWorkerAsync();
        var before = DateTimeOffset.UtcNow;
        var id = await EnqueueAsync(Job("py-ask", """{"ask":{"retry_after":3600}}""") with { MaxAttempts = 3 });
        var job = await WaitForStateAsync(id, JobState.Scheduled);
        Assert.InRange(job.RunAt!.Value, before.AddMinutes(59), DateTimeOffset.UtcNow.AddMinutes(61));
    }

    [Fact]
    public async Task InATrace_TheProgramGetsTheAttemptsTraceparent()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == Gantry.Telemetry.GantryTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        await StartWorkerAsync();
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var id = await EnqueueAsync(Job("py-trace"));
        request.Stop();
        var job = await WaitForAsync(id, j => j.State.IsTerminal(), "finished");
        Assert.Equal(JobState.Succeeded, job.State);
        var traceparent = JsonDocument.Parse(job.Result!).RootElement.GetProperty("traceparent").GetString();
        Assert.StartsWith($"00-{request.TraceId.ToHexString()}-", traceparent, StringComparison.Ordinal);
        // The attempt's own span: not the enqueue span the job recorded.
        Assert.NotEqual(job.TraceParent, traceparent);
    }

    [Fact]
    public async Task NonZeroExit_FailsWithLastStderrLines()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-fail");
        Assert.Equal(JobState.Dead, job.State);
        var error = Assert.Single(job.Errors).Error;
        Assert.Contains("exited with code 3", error.Message, StringComparison.Ordinal);
        Assert.Contains("ValueError: the invoice is missing", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"code":255}""", "bash exited with code 255")]
    [InlineData("""{"code":137}""", "bash exited with code 137")]
    [InlineData("""{"code":129}""", "bash exited with code 129")]
    [InlineData("""{"how":"kill"}""", "bash was killed by signal 9")]
    [InlineData("""{"how":"segv"}""", "bash was killed by signal 11")]
    public async Task ExitCodeAbove128_IsAnExitCode_ASignalIsASignal(string payload, string message)
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("sh-exit", payload);
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal(message, Assert.Single(job.Errors).Error.Message);
    }

    [Fact]
    public async Task LargeOutput_CutWithoutBlockingTheProgram()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-noisy");
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal("\"done\"", job.Result);
    }

    [Fact]
    public async Task MemoryHog_FailsWithMemoryMessage_WorkerCarriesOn()
    {
        Assert.False(ProcessIsolation.IsDegraded, $"this machine kind has writable cgroups; isolation is {ProcessIsolation.Description}");
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-hog");
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal("limit hit: memory (64 MB)", Assert.Single(job.Errors).Error.Message);

        var after = await RunToEndAsync("py-hello", """{"name":"still here"}""");
        Assert.Equal(JobState.Succeeded, after.State);
    }

    [Fact]
    public async Task Usage_MemoryHungryAttempt_RecordsItsPeakMemory()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-eat");
        Assert.Equal(JobState.Succeeded, job.State);
        var usage = Assert.Single(job.Usage);
        Assert.Equal(1, usage.Attempt);
        Assert.Equal(AttemptOutcomes.Exited, usage.Usage.Outcome);
        Assert.Equal(0, usage.Usage.ExitCode);
        // 200 MiB written, plus the interpreter; well under the 512 MiB limit.
        Assert.InRange(usage.Usage.PeakMemoryBytes ?? 0, 190L << 20, 500L << 20);
        Assert.InRange(usage.Usage.CpuSeconds ?? -1, 0, 30);
    }

    [Fact]
    public async Task Usage_CpuBoundAttempt_RecordsItsCpuTime()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-burn");
        Assert.Equal(JobState.Succeeded, job.State);
        var usage = Assert.Single(job.Usage).Usage;
        Assert.Equal(AttemptOutcomes.Exited, usage.Outcome);
        // The program stops at 1.5 s of its own CPU time; the interpreter's start adds a little.
        Assert.InRange(usage.CpuSeconds ?? 0, 1.4, 10);
        Assert.InRange(usage.PeakMemoryBytes ?? 0, 1L << 20, 200L << 20);
    }

    [Fact]
    public async Task Usage_MemoryLimitHit_IsTheOutcome()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("py-hog");
        Assert.Equal(JobState.Dead, job.State);
        var usage = Assert.Single(job.Usage).Usage;
        Assert.Equal(AttemptOutcomes.LimitHit, usage.Outcome);
        Assert.Equal(AttemptLimits.Memory, usage.Limit);
        Assert.EndsWith("limit hit: memory", usage.ToString(), StringComparison.Ordinal);
        Assert.InRange(usage.PeakMemoryBytes ?? 0, 32L << 20, 65L << 20);
    }

    [Fact]
    public async Task JobLimits_TighterThanItsType_Enforced()
    {
        await StartWorkerAsync();
        // py-eat's type allows 512 MB and the program holds 200 MB: the job's own 64 MB binds.
        var id = await EnqueueAsync(Job("py-eat") with { MaxAttempts = 1, Limits = new ResourceLimits { MemoryMb = 64 } });
        var job = await WaitForAsync(id, j => j.State.IsTerminal(), "finished");
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal("limit hit: memory (64 MB)", Assert.Single(job.Errors).Error.Message);
        var usage = Assert.Single(job.Usage).Usage;
        Assert.Equal((AttemptOutcomes.LimitHit, AttemptLimits.Memory), (usage.Outcome, usage.Limit));

        // Wider than the type's: the type's binds (a submitter that knew the type would have refused it).
        id = await EnqueueAsync(Job("py-hog") with { MaxAttempts = 1, Limits = new ResourceLimits { MemoryMb = 4096 } });
        job = await WaitForAsync(id, j => j.State.IsTerminal(), "finished");
        Assert.Equal("limit hit: memory (64 MB)", Assert.Single(job.Errors).Error.Message);
    }

    [Fact]
    public async Task Usage_Timeout_IsTheOutcome()
    {
        await StartWorkerAsync();
        var job = await RunToEndAsync("sh-tree");
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal(JobErrorKinds.Timeout, Assert.Single(job.Errors).Error.Kind);
        var usage = Assert.Single(job.Usage).Usage;
        Assert.Equal(AttemptOutcomes.Timeout, usage.Outcome);
        Assert.Equal(PosixSignalsTerm, usage.Signal);
    }

    private const int PosixSignalsTerm = 15;

    [Fact]
    public async Task Timeout_KillsTheWholeTree()
    {
        await StartWorkerAsync();
        var id = await EnqueueAsync(Job("sh-tree") with { MaxAttempts = 1 });
        await WaitForAsync(id, _ => CountMarked() == 3, "three processes running");
        var job = await WaitForAsync(id, j => j.State.IsTerminal(), "finished");
        Assert.Equal(JobState.Dead, job.State);
        Assert.Equal(JobErrorKinds.Timeout, Assert.Single(job.Errors).Error.Kind);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (CountMarked() > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, CountMarked());
    }

    [Fact]
    public async Task CancelNow_ProgramIgnoringSigterm_KilledAtOnceAndCancelled()
    {
        await StartWorkerAsync(Options() with { CancelGracePeriod = TimeSpan.FromSeconds(60) });
        var id = await EnqueueAsync(Job("sh-stubborn") with { MaxAttempts = 1 });
        await WaitForAsync(id, _ => CountMarked() == 1, "the program running");

        Assert.Equal(JobCancelOutcome.Requested, (await Store.JobCancelAsync(id, now: true, Ct)).Outcome);

        var job = await WaitForAsync(id, j => j.State.IsTerminal(), "finished");
        Assert.Equal(JobState.Cancelled, job.State);
        await WaitForProgramGoneAsync();
        // SIGKILL came first: the program never saw a SIGTERM it could have acted on.
        Assert.False(File.Exists(Path.Combine(Dir, $"stubborn.{_marker}.log")));
    }

    [Fact]
    public async Task Cancel_ProgramIgnoringSigterm_KilledAfterTheGrace()
    {
        await StartWorkerAsync(Options() with { CancelGracePeriod = TimeSpan.FromSeconds(60) });
        var id = await EnqueueAsync(Job("sh-stubborn") with { MaxAttempts = 1 });
        await WaitForAsync(id, _ => CountMarked() == 1, "the program running");
        var asked = Stopwatch.StartNew();

        Assert.Equal(JobCancelOutcome.Requested, (await Store.JobCancelAsync(id, Ct)).Outcome);

        var job = await WaitForAsync(id, j => j.State.IsTerminal(), "finished");
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.True(asked.Elapsed >= ProcessJobRunner.KillGrace - TimeSpan.FromMilliseconds(100), $"cancelled after {asked.Elapsed}");
        Assert.True(File.Exists(Path.Combine(Dir, $"stubborn.{_marker}.log")), "the program got SIGTERM first");
        await WaitForProgramGoneAsync();
    }

    private async Task WaitForProgramGoneAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (CountMarked() > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, CountMarked());
    }

    [Fact]
    public async Task ForkBomb_HeldByProcessLimit_AndCleanedUp()
    {
        Assert.False(ProcessIsolation.IsDegraded, $"this machine kind has writable cgroups; isolation is {ProcessIsolation.Description}");
        await StartWorkerAsync();
        var id = await EnqueueAsync(Job("sh-forks") with { MaxAttempts = 1 });
        var most = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20) && !(await GetAsync(id)).State.IsTerminal())
        {
            most = Math.Max(most, CountMarked());
            await Task.Delay(20);
        }
        Assert.True(most <= 16, $"{most} processes ran, over the limit of 16");
        Assert.True((await GetAsync(id)).State.IsTerminal());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (CountMarked() > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, CountMarked());
        Assert.Empty(Directory.GetDirectories("/sys/fs/cgroup/pids/gantry", $"*-{id:N}-1"));
    }
}
