using Gantry.Jobs;

namespace Gantry.Core.Tests.Jobs;

public sealed class JobStateMachineTests
{
    /// <summary>Every legal (from, transition, to) triple: the lifecycle of DESIGN.md.</summary>
    public static TheoryData<JobState, JobTransition, JobState> Legal => new()
    {
        { JobState.Scheduled, JobTransition.Promote, JobState.Queued },
        { JobState.Waiting, JobTransition.Release, JobState.Queued },
        { JobState.Queued, JobTransition.Claim, JobState.Running },
        { JobState.Running, JobTransition.Succeed, JobState.Succeeded },
        { JobState.Running, JobTransition.FailAndRetry, JobState.Scheduled },
        { JobState.Running, JobTransition.FailAndRetry, JobState.Queued },
        { JobState.Running, JobTransition.FailForGood, JobState.Dead },
        { JobState.Running, JobTransition.Requeue, JobState.Queued },
        { JobState.Running, JobTransition.Rescue, JobState.Queued },
        { JobState.Running, JobTransition.Rescue, JobState.Scheduled },
        { JobState.Running, JobTransition.Rescue, JobState.Dead },
        { JobState.Running, JobTransition.Rescue, JobState.Cancelled },
        { JobState.Waiting, JobTransition.Cancel, JobState.Cancelled },
        { JobState.Scheduled, JobTransition.Cancel, JobState.Cancelled },
        { JobState.Queued, JobTransition.Cancel, JobState.Cancelled },
        { JobState.Running, JobTransition.Cancel, JobState.Cancelled },
        { JobState.Dead, JobTransition.Retry, JobState.Queued },
        { JobState.Cancelled, JobTransition.Retry, JobState.Queued },
        { JobState.Dead, JobTransition.Retry, JobState.Waiting },
        { JobState.Cancelled, JobTransition.Retry, JobState.Waiting },
    };

    private static readonly HashSet<(JobState, JobTransition, JobState)> LegalSet =
        Legal.Select(row => ((JobState)row[0], (JobTransition)row[1], (JobState)row[2])).ToHashSet();

    [Theory]
    [MemberData(nameof(Legal))]
    public void Apply_LegalTransition_ReturnsTarget(JobState from, JobTransition transition, JobState to)
    {
        Assert.True(JobStateMachine.IsAllowed(from, transition, to));
        Assert.Equal(to, JobStateMachine.Apply(from, transition, to));
    }

    [Fact]
    public void Apply_EveryOtherTriple_ThrowsIllegalTransition()
    {
        var checkedCount = 0;
        foreach (var from in Enum.GetValues<JobState>())
        foreach (var transition in Enum.GetValues<JobTransition>())
        foreach (var to in Enum.GetValues<JobState>())
        {
            if (LegalSet.Contains((from, transition, to))) continue;
            Assert.False(JobStateMachine.IsAllowed(from, transition, to), $"{from} -{transition}-> {to}");
            var ex = Assert.Throws<IllegalTransitionException>(() => JobStateMachine.Apply(from, transition, to));
            Assert.Equal(from, ex.From);
            Assert.Equal(transition, ex.Transition);
            checkedCount++;
        }
        Assert.True(checkedCount > 400);
    }

    [Fact]
    public void Apply_Succeeded_AcceptsNoTransition()
    {
        foreach (var transition in Enum.GetValues<JobTransition>())
        foreach (var to in Enum.GetValues<JobState>())
            Assert.False(JobStateMachine.IsAllowed(JobState.Succeeded, transition, to), $"{transition} -> {to}");
    }

    [Theory]
    [InlineData(JobState.Dead)]
    [InlineData(JobState.Cancelled)]
    public void Apply_DeadOrCancelled_AcceptsOnlyRetry(JobState terminal)
    {
        foreach (var transition in Enum.GetValues<JobTransition>())
        foreach (var to in Enum.GetValues<JobState>())
        {
            var expected = transition == JobTransition.Retry && to is JobState.Queued or JobState.Waiting;
            Assert.Equal(expected, JobStateMachine.IsAllowed(terminal, transition, to));
        }
    }

    [Fact]
    public void IllegalTransitionException_Cancel_ReadsAsOneSentence()
    {
        var ex = Assert.Throws<IllegalTransitionException>(() => JobStateMachine.Apply(JobState.Succeeded, JobTransition.Cancel, JobState.Cancelled));

        Assert.Equal("a job that is succeeded cannot be cancelled", ex.Message);
        Assert.IsAssignableFrom<GantryException>(ex);
    }

    [Fact]
    public void IllegalTransitionException_Retry_SaysWhichJobsCan()
    {
        var ex = Assert.Throws<IllegalTransitionException>(() => JobStateMachine.Apply(JobState.Running, JobTransition.Retry, JobState.Queued));

        Assert.Equal("a job that is running cannot be retried (only dead or cancelled jobs can)", ex.Message);
    }

    [Fact]
    public void IllegalTransitionException_SeveralTargets_NamesTarget()
    {
        var ex = Assert.Throws<IllegalTransitionException>(() => JobStateMachine.Apply(JobState.Running, JobTransition.FailAndRetry, JobState.Dead));

        Assert.EndsWith("to dead", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void From_EveryTransition_HasRule()
    {
        foreach (var transition in Enum.GetValues<JobTransition>())
        {
            Assert.NotEmpty(JobStateMachine.From(transition));
            Assert.NotEmpty(JobStateMachine.To(transition));
        }
    }

    [Fact]
    public void JobStates_TextRoundTrips_ForEveryState()
    {
        foreach (var state in JobStates.All)
        {
            Assert.True(JobStates.TryParse(state.ToText(), out var parsed));
            Assert.Equal(state, parsed);
            Assert.Equal(state, JobStates.Parse(state.ToText().ToUpperInvariant()));
        }
        Assert.False(JobStates.TryParse("finished", out _));
        Assert.Throws<FormatException>(() => JobStates.Parse("finished"));
    }

    [Fact]
    public void IsTerminal_OnlySucceededDeadCancelled_True()
    {
        var terminal = JobStates.All.Where(s => s.IsTerminal()).ToArray();
        Assert.Equal([JobState.Succeeded, JobState.Dead, JobState.Cancelled], terminal);
    }
}
