using Mesh.Consul.TestAgent;
using Mesh.Identity;
using Microsoft.Extensions.Primitives;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed class ProxyConfigurationTests
{
    private static TestService WebSidecar(params TestUpstream[] upstreams) =>
        new("web-sidecar-proxy", "web-sidecar-proxy", 21000)
        {
            Kind = "connect-proxy",
            Proxy = new TestProxy("web", 8080) { DestinationServiceId = "web", Upstreams = upstreams },
        };

    [Test]
    public async Task The_sidecar_registration_is_read_as_consul_connect_proxy_reads_it()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(new TestService("web", "web", 8080));
        agent.Register(WebSidecar(
            new TestUpstream("api", 9191),
            new TestUpstream("db", 9192) { Datacenter = "dc2", LocalBindAddress = "127.0.0.2", MeshGatewayMode = "local" }));
        using var client = new ConsulAgentClient(FastOptions(agent));

        string id = await ConsulProxyConfigurationSource.FindSidecarIdAsync(client, "web", Timeout());
        await using var source = new ConsulProxyConfigurationSource(client, id);
        ConsulProxyConfiguration configuration = await source.GetConfigurationAsync(Timeout());

        Assert.Multiple(() =>
        {
            Assert.That(id, Is.EqualTo("web-sidecar-proxy"));
            Assert.That(configuration.DestinationService, Is.EqualTo(new ServiceName("web")));
            Assert.That(configuration.DestinationServiceId, Is.EqualTo("web"));
            Assert.That((configuration.LocalServiceAddress, configuration.LocalServicePort), Is.EqualTo(("127.0.0.1", 8080)));
            Assert.That(configuration.Port, Is.EqualTo(21000));
            Assert.That(configuration.Upstreams, Has.Count.EqualTo(2));
            ConsulUpstream db = configuration.Upstreams[1];
            Assert.That((db.Destination.Name, db.Datacenter, db.LocalBindAddress, db.LocalBindPort, db.MeshGatewayMode), Is.EqualTo(("db", "dc2", "127.0.0.2", 9192, ConsulMeshGatewayMode.Local)));
            ConsulUpstream api = configuration.Upstreams[0];
            Assert.That((api.DestinationType, api.Datacenter, api.LocalBindAddress, api.MeshGatewayMode), Is.EqualTo(("service", (string?)null, "127.0.0.1", ConsulMeshGatewayMode.Default)));
        });
    }

    [Test]
    public async Task An_upstream_added_to_the_registration_arrives_without_a_restart()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(WebSidecar(new TestUpstream("api", 9191)));
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var source = new ConsulProxyConfigurationSource(client, "web-sidecar-proxy");
        await source.GetConfigurationAsync(Timeout());
        IChangeToken changed = source.GetChangeToken();

        agent.Register(WebSidecar(new TestUpstream("api", 9191), new TestUpstream("db", 9192)));

        await EventuallyAsync(() => changed.HasChanged, "the configuration's change token");
        Assert.That(source.Current!.Upstreams.Select(u => u.Destination.Name), Is.EqualTo(new[] { "api", "db" }));
        Assert.That(agent.Requests.Any(r => r.PathAndQuery.StartsWith("/v1/agent/service/web-sidecar-proxy?hash=", StringComparison.Ordinal)), Is.True, "blocks on the content hash");
    }

    [Test]
    public async Task Finding_a_sidecar_for_a_service_without_one_is_a_clear_error()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(new TestService("web", "web", 8080));
        using var client = new ConsulAgentClient(FastOptions(agent));

        var exception = Assert.ThrowsAsync<InvalidOperationException>(async () => await ConsulProxyConfigurationSource.FindSidecarIdAsync(client, "web", Timeout()));

        Assert.That(exception!.Message, Does.Contain("No sidecar proxy is registered").And.Contain("'web'"));
    }

    [Test]
    public async Task A_service_that_is_not_a_proxy_is_reported_and_not_taken_as_configuration()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(new TestService("web", "web", 8080));
        var log = new CapturedLog();
        using var client = new ConsulAgentClient(FastOptions(agent), log);
        await using var source = new ConsulProxyConfigurationSource(client, "web");

        await EventuallyAsync(() => log.Count(Mesh.Diagnostics.MeshLogEvents.ConsulInvalidResponse) == 1, "the invalid registration is logged");
        Assert.That(source.Current, Is.Null);
        Assert.That(log.Lines.Single(l => l.EventId == Mesh.Diagnostics.MeshLogEvents.ConsulInvalidResponse).Message, Does.Contain("not as a connect-proxy"));
    }
}
