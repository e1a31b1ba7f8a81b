using System.Net;
using Mesh.Consul.TestAgent;
using Mesh.ControlPlane;
using Mesh.Identity;
using static Mesh.Consul.Tests.BlockingQueryTests;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed class CatalogTests
{
    private static readonly ServiceName Web = new("web");

    [Test]
    public async Task Healthy_sidecars_and_native_instances_are_endpoints_with_the_destination_identity()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(Sidecar("web-1-sidecar-proxy", "web", 21000) with { Address = "127.0.0.2" });
        agent.Register(Sidecar("web-2-sidecar-proxy", "web", 21001) with { Address = string.Empty, NodeAddress = "127.0.0.3" });
        agent.Register(Sidecar("web-3-sidecar-proxy", "web", 21002) with { Passing = false });
        agent.Register(new TestService("web-native", "web", 9443) { ConnectNative = true, Meta = new Dictionary<string, string> { ["subset"] = "v2" } });
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var catalog = new ConsulServiceCatalog(client);

        catalog.WatchService(Web);
        await catalog.WaitForFirstAnswersAsync(Timeout());

        IReadOnlyList<ServiceEndpoint> endpoints = catalog.GetHealthyEndpoints(Web, "dc1");
        Assert.That(endpoints.Select(e => e.Address.ToString()), Is.EquivalentTo(new[] { "127.0.0.2:21000", "127.0.0.3:21001", "127.0.0.1:9443" }));
        Assert.That(endpoints.Select(e => e.Identity), Is.All.EqualTo(new ServiceIdentity(Web, "dc1")));
        Assert.That(endpoints.Single(e => e.Address.Port == 9443).Subset, Is.EqualTo("v2"));
        Assert.That(agent.Requests.Any(r => r.PathAndQuery.StartsWith("/v1/health/connect/web?passing&cached", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task Without_the_agent_cache_catalog_reads_allow_stale_answers()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(Sidecar("web-sidecar-proxy", "web", 21000));
        ConsulOptions options = FastOptions(agent);
        options.UseAgentCache = false;
        using var client = new ConsulAgentClient(options);
        await using var catalog = new ConsulServiceCatalog(client);

        catalog.WatchService(Web);
        await catalog.WaitForFirstAnswersAsync(Timeout());

        RecordedRequest[] reads = [.. agent.Requests.Where(r => r.PathAndQuery.StartsWith("/v1/health/connect/web", StringComparison.Ordinal))];
        Assert.That(reads.Select(r => r.PathAndQuery), Has.All.Contains("stale").And.None.Contains("cached"));
        Assert.That(catalog.GetHealthyEndpoints(Web, "dc1"), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task An_upstream_in_another_datacenter_is_asked_for_with_dc()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(Sidecar("api-sidecar-proxy", "api", 21000, datacenter: "dc2") with { Local = false });
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var catalog = new ConsulServiceCatalog(client);

        catalog.WatchService(new ServiceName("api"), "dc2");
        await catalog.WaitForFirstAnswersAsync(Timeout());

        Assert.That(catalog.GetHealthyEndpoints(new ServiceName("api"), "dc2").Single().Identity.Datacenter, Is.EqualTo("dc2"));
        Assert.That(catalog.GetHealthyEndpoints(new ServiceName("api"), "dc1"), Is.Empty);
        Assert.That(agent.Requests.Any(r => r.PathAndQuery.Contains("dc=dc2", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task Endpoints_follow_registration_and_health_within_a_round()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var catalog = new ConsulServiceCatalog(client);
        catalog.WatchService(Web);
        await catalog.WaitForFirstAnswersAsync(Timeout());

        agent.Register(Sidecar("web-sidecar-proxy", "web", 21000));
        await EventuallyAsync(() => catalog.GetHealthyEndpoints(Web, "dc1").Count == 1, "the new sidecar");
        agent.Register(Sidecar("web-sidecar-proxy", "web", 21000) with { Passing = false });
        await EventuallyAsync(() => catalog.GetHealthyEndpoints(Web, "dc1").Count == 0, "the failing sidecar leaves");
    }

    [Test]
    public async Task Mesh_gateways_carry_their_LAN_and_WAN_addresses()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(new TestService("gw-1", "mesh-gateway", 8443) { Kind = "mesh-gateway", Lan = new("127.0.0.1", 8443), Wan = new("127.0.0.9", 443) });
        agent.Register(new TestService("gw-2", "mesh-gateway", 8443) { Kind = "mesh-gateway", Datacenter = "dc2", Lan = new("127.0.1.1", 8443), Wan = new("127.0.1.9", 443), Local = false });
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var catalog = new ConsulServiceCatalog(client);

        catalog.WatchMeshGateways();
        catalog.WatchMeshGateways("dc2");
        await catalog.WaitForFirstAnswersAsync(Timeout());

        MeshGatewayEndpoint local = catalog.GetMeshGateways("dc1").Single();
        MeshGatewayEndpoint remote = catalog.GetMeshGateways("dc2").Single();
        Assert.That((local.LanAddress, local.WanAddress), Is.EqualTo((IPEndPoint.Parse("127.0.0.1:8443"), IPEndPoint.Parse("127.0.0.9:443"))));
        Assert.That((remote.LanAddress, remote.WanAddress), Is.EqualTo((IPEndPoint.Parse("127.0.1.1:8443"), IPEndPoint.Parse("127.0.1.9:443"))));
        Assert.That(catalog.GetDatacenters(), Is.EquivalentTo(new[] { "dc1", "dc2" }));
    }

    [Test]
    public async Task Local_services_list_the_connect_enabled_services_for_a_gateway()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        // As Consul registers a service with "connect": {"sidecar_service": {}}: the service and its sidecar.
        agent.Register(new TestService("web", "web", 8080));
        agent.Register(Sidecar("web-sidecar-proxy", "web", 21000));
        agent.Register(new TestService("api-native", "api", 9443) { ConnectNative = true });
        agent.Register(new TestService("legacy", "legacy", 80));
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var catalog = new ConsulServiceCatalog(client);

        catalog.WatchLocalServices();
        await EventuallyAsync(() => catalog.GetServices("dc1").Count == 2, "two connect-enabled services");
        Assert.That(catalog.GetServices("dc1"), Is.EquivalentTo(new[] { Web, new ServiceName("api") }));

        agent.Register(new TestService("db", "db", 5432));
        agent.Register(Sidecar("db-sidecar-proxy", "db", 21001));
        await EventuallyAsync(() => catalog.GetServices("dc1").Contains(new ServiceName("db")), "a service registered later");
        agent.Deregister("api-native");
        await EventuallyAsync(() => !catalog.GetServices("dc1").Contains(new ServiceName("api")), "a deregistered service leaves");
    }
}
