using Gantry.Bench;

// Usage: dotnet run -c Release --project bench/RawPostgresLoop -- "Host=127.0.0.1;Port=5432;Username=postgres;Database=bench" [jobs=100000] [rounds=3]
// Each round runs in a fresh schema of the database, made and dropped by the loop; the first round warms up.
if (args.Length < 1)
{
    Console.Error.WriteLine("usage: RawPostgresLoop CONNECTION-STRING [jobs=100000] [rounds=3]");
    return 2;
}
var jobs = args.Length > 1 ? int.Parse(args[1]) : 100_000;
var rounds = args.Length > 2 ? int.Parse(args[2]) : 3;
await RawPostgresLoop.RunAsync(args[0], 5_000, CancellationToken.None);
for (var i = 0; i < rounds; i++)
{
    var r = await RawPostgresLoop.RunAsync(args[0], jobs, CancellationToken.None);
    Console.WriteLine($$"""{"jobs": {{r.Jobs}}, "enqueue_jobs_per_second": {{r.EnqueueJobsPerSecond:0}}, "jobs_per_second": {{r.JobsPerSecond:0}}, "claims": {{r.Claims}}, "completion_batches": {{r.CompletionBatches}}}""");
}
return 0;
