namespace Gantry.Jobs;

/// <summary>One line an attempt logged: its handler's logger, or a process handler's output.</summary>
/// <param name="Number">Position within the attempt, from 1.</param>
/// <param name="Level">trace, debug, information, warning, error or critical.</param>
public sealed record JobLogLine(int Number, DateTimeOffset At, string Level, string Message);

/// <summary>A stored log line, with the attempt it belongs to.</summary>
public sealed record JobAttemptLogLine(int Attempt, JobLogLine Line);
