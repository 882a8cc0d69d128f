using Gantry.Protocol;
using Gantry.Server.Api;
using Gantry.Server.Intake;
using Gantry.Server.Leadership;
using Gantry.Server.Maintenance;

namespace Gantry.Server.Tests.Options;

/// <summary>Every setting of the server's options that can be wrong is refused, naming the setting; the defaults are valid.</summary>
public sealed class ServerOptionsTests
{
    private static void AssertRefused(string where, Action validate)
    {
        var ex = Assert.Throws<InvalidInputException>(validate);

        Assert.Equal(where, ex.Where);
        Assert.StartsWith(where + ":", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_Valid()
    {
        new MaintenanceOptions().Validate();
        new LeaderOptions().Validate();
        new ApiOptions().Validate();
        new JobsDirectoryOptions { Path = "/tmp/jobs" }.Validate();
        JobLimits.Default.Validate();
    }

    public static TheoryData<string, MaintenanceOptions> InvalidMaintenance => new()
    {
        { "scheduler interval", new MaintenanceOptions { SchedulerInterval = TimeSpan.FromMilliseconds(9) } },
        { "rescue interval", new MaintenanceOptions { RescuerInterval = TimeSpan.Zero } },
        { "cleaner interval", new MaintenanceOptions { CleanerInterval = TimeSpan.FromMilliseconds(-1) } },
        { "dead-worker interval", new MaintenanceOptions { DeadWorkerInterval = TimeSpan.FromMilliseconds(1) } },
        { "upkeep interval", new MaintenanceOptions { UpkeepInterval = TimeSpan.Zero } },
        { "retention", new MaintenanceOptions { Retention = TimeSpan.FromSeconds(-1) } },
        { "dead-worker timeout", new MaintenanceOptions { DeadWorkerTimeout = TimeSpan.Zero } },
        { "cleaner interval", new MaintenanceOptions { CleanerInterval = TimeSpan.FromDays(25) } },
        { "dead-worker timeout", new MaintenanceOptions { DeadWorkerTimeout = TimeSpan.FromDays(25) } },
        { "retention", new MaintenanceOptions { Retention = TimeSpan.FromDays(36_501) } },
        { "worker retention", new MaintenanceOptions { WorkerRetention = TimeSpan.FromDays(36_501) } },
    };

    [Theory]
    [MemberData(nameof(InvalidMaintenance))]
    public void MaintenanceOptions_Invalid_RefusedNamingTheSetting(string where, MaintenanceOptions options) => AssertRefused(where, options.Validate);

    [Fact]
    public void MaintenanceOptions_LeastInterval_Valid() =>
        new MaintenanceOptions { SchedulerInterval = MaintenanceOptions.LeastInterval, Retention = TimeSpan.Zero }.Validate();

    public static TheoryData<string, LeaderOptions> InvalidLeader => new()
    {
        { "leader name", new LeaderOptions { Name = " " } },
        { "leader elect interval", new LeaderOptions { ElectInterval = TimeSpan.Zero } },
        { "leader ttl", new LeaderOptions { ElectInterval = TimeSpan.FromSeconds(2), Ttl = TimeSpan.FromSeconds(3) } },
    };

    [Theory]
    [MemberData(nameof(InvalidLeader))]
    public void LeaderOptions_Invalid_RefusedNamingTheSetting(string where, LeaderOptions options) => AssertRefused(where, options.Validate);

    public static TheoryData<string, ApiOptions> InvalidApi => new()
    {
        { "max request bytes", new ApiOptions { MaxRequestBytes = 0 } },
        { "dead-worker timeout", new ApiOptions { DeadWorkerTimeout = TimeSpan.Zero } },
        { "max payload bytes", new ApiOptions { Limits = new JobLimits { MaxPayloadBytes = 0 } } },
        { "max batch", new ApiOptions { Limits = new JobLimits { MaxBatch = 0 } } },
        { "max depth", new ApiOptions { Limits = new JobLimits { MaxDepth = 0 } } },
    };

    [Theory]
    [MemberData(nameof(InvalidApi))]
    public void ApiOptions_Invalid_RefusedNamingTheSetting(string where, ApiOptions options) => AssertRefused(where, options.Validate);

    [Fact]
    public void AddGantryApi_InvalidOptions_RefusedWhenAdded() =>
        Assert.Throws<InvalidInputException>(() => Microsoft.Extensions.DependencyInjection.GantryApi.AddGantryApi(new Microsoft.Extensions.DependencyInjection.ServiceCollection(), new ApiOptions { MaxRequestBytes = 0 }));

    public static TheoryData<string, JobsDirectoryOptions> InvalidJobsDirectory => new()
    {
        { "jobs folder", new JobsDirectoryOptions { Path = "" } },
        { "jobs folder poll interval", new JobsDirectoryOptions { Path = "/tmp/jobs", PollInterval = TimeSpan.FromMilliseconds(5) } },
        { "max batch", new JobsDirectoryOptions { Path = "/tmp/jobs", Limits = new JobLimits { MaxBatch = 0 } } },
    };

    [Theory]
    [MemberData(nameof(InvalidJobsDirectory))]
    public void JobsDirectoryOptions_Invalid_RefusedNamingTheSetting(string where, JobsDirectoryOptions options) => AssertRefused(where, options.Validate);
}
