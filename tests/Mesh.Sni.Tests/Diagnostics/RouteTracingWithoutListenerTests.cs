using System.Net;
using Mesh.Identity;
using Mesh.Sni.Diagnostics;
using Mesh.Sni.Gateway;

namespace Mesh.Sni.Tests.Diagnostics;

/// <summary>With no tracer subscribed, the gateway's route-decision span costs no allocation on either engine's path.</summary>
[NonParallelizable]
public sealed class RouteTracingWithoutListenerTests
{
    [Test]
    public void Without_a_listener_a_route_decision_allocates_nothing_for_tracing()
    {
        var remote = new IPEndPoint(IPAddress.Loopback, 40000);
        GatewayRoute route = GatewayRoute.ToService(new ServiceName("counting"), "dc2");

        Assert.That(GatewayActivity.Enabled, Is.False, "no tracer is subscribed");
        GatewayActivity.Routed(1, remote, "counting.default.dc2.internal.example.consul", route, "dc2");
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            GatewayActivity.Routed(i, remote, "counting.default.dc2.internal.example.consul", route, "dc2");
            GatewayActivity.Refused(i, remote, "nobody.default.dc2.internal.example.consul", "dc2", "no_route");
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
