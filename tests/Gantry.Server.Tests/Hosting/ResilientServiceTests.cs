using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Hosting;

/// <summary>A service that throws is started again after a pause; the host it runs in stays up.</summary>
public sealed class ResilientServiceTests
{
    private sealed class Flaky(int failures) : ResilientService(NullLogger.Instance, TimeProvider.System)
    {
        public int Runs;
        public readonly TaskCompletionSource Healthy = new(TaskCreationOptions.RunContinuationsAsynchronously);
        protected override TimeSpan FirstPause => TimeSpan.FromMilliseconds(20);

        protected override async Task RunAsync(CancellationToken stoppingToken)
        {
            if (Interlocked.Increment(ref Runs) <= failures) throw new IOException($"failure {Runs}");
            Healthy.TrySetResult();
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
    }

    [Fact]
    public async Task ThrowingService_IsStartedAgain_AndTheHostStaysUp()
    {
        var flaky = new Flaky(failures: 4);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.ClearProviders();
        builder.Services.AddHostedService(_ => flaky);
        using var host = builder.Build();
        await host.StartAsync();
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();

        await flaky.Healthy.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(5, flaky.Runs);
        Assert.Equal(4, flaky.Restarts);
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "a failing service must not stop the host");
        Assert.False(flaky.ExecuteTask!.IsCompleted);
        await host.StopAsync();
        Assert.True(flaky.ExecuteTask.IsCompletedSuccessfully);
    }
}
