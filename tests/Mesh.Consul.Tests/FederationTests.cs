using Mesh.Consul.TestAgent;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

/// <summary>The catalog follows the WAN federation: datacenters that join or leave bring or take their mesh gateways.</summary>
public sealed class FederationTests
{
    [Test]
    public async Task A_datacenter_that_joins_brings_its_mesh_gateways_and_one_that_leaves_takes_them_away()
    {
        ConsulTestAgent[] agents = await ConsulTestAgent.StartFederatedAsync(["dc1"], "dc2");
        await using ConsulTestAgent dc1 = agents[0];
        await using var client = new ConsulControlPlane(FastOptions(dc1));
        ConsulServiceCatalog catalog = client.Catalog;
        catalog.WatchFederatedMeshGateways("dc1", TimeSpan.FromMilliseconds(50));
        await catalog.WaitForFirstAnswersAsync(Timeout());
        Assert.That(catalog.GetDatacenters(), Is.Empty, "no remote gateway yet");

        await using ConsulTestAgent dc2 = await ConsulTestAgent.StartAsync("dc2", dc1.Ca);
        dc2.Register(new TestService("gw", "mesh-gateway", 8443) { Kind = "mesh-gateway", Wan = new TestAddress("127.0.0.1", 9443) });
        dc2.JoinWan(dc1);

        await EventuallyAsync(() => catalog.GetMeshGateways("dc2").Count == 1, "dc2's gateway once dc2 joins");
        Assert.That(catalog.GetMeshGateways("dc2")[0].WanAddress.Port, Is.EqualTo(9443));

        dc1.LeaveWan(dc2);
        await EventuallyAsync(() => catalog.GetMeshGateways("dc2").Count == 0, "dc2's gateway gone once dc2 leaves");
        Assert.That(catalog.Faults, Is.Empty);
    }
}
