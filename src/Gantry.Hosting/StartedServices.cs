using Gantry.Node.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gantry.Hosting;

/// <summary>Gantry's hosted services that a host has started, found without building any (they are built only as the
/// host starts them: <see cref="DeferredHostedService"/>).</summary>
internal static class StartedServices
{
    /// <summary>The node of <c>AddNode</c> once it has started; null before, and without one.</summary>
    public static NodeHostedService? Node(IServiceProvider services) =>
        services.GetServices<IHostedService>().Select(s => s is DeferredHostedService d ? d.Inner : s).OfType<NodeHostedService>().FirstOrDefault(n => n.Started);
}
