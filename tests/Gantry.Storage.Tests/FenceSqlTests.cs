namespace Gantry.Storage.Tests;

public sealed class FenceSqlTests
{
    [Fact]
    public void Report_FencesIdStateAttemptAndWorker()
    {
        Assert.Equal("id = @id AND state = 'running' AND attempt = @attempt AND worker_id = @worker", FenceSql.Report);
    }

    [Fact]
    public void Attempt_QualifiedRowAndOtherKey_NamesEveryColumnOfTheRow()
    {
        Assert.Equal("j.id = u.id AND j.state = 'running' AND j.attempt = u.attempt AND j.worker_id = u.worker_id",
            FenceSql.Attempt("u.id", "u.attempt", "u.worker_id", row: "j."));
        Assert.Equal("seq = @seq AND state = 'running' AND attempt = @attempt AND worker_id = @worker", FenceSql.Attempt(key: "seq", id: "@seq"));
    }

    [Fact]
    public void Attempt_NoWorker_LeavesTheWorkerOut()
    {
        Assert.Equal("id = @id AND state = 'running' AND attempt = @attempt", FenceSql.Attempt(worker: null));
    }
}
