using System.Diagnostics;
using System.Net.Sockets;
using Mesh.Diagnostics;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.InProcess;

namespace Mesh.EndToEnd.Tests.Diagnostics;

/// <summary>
/// The spans an operator's tracer sees for a call through the mesh: dashboard's sidecar dials (client span), each gateway
/// routes by SNI (on its epoll loop), counting's sidecar accepts, authenticates, authorizes and hands off (server span).
/// </summary>
[NonParallelizable]
public sealed class TracingTests
{
    private static readonly string CountingSni = "counting.default.dc2.internal." + TwoDatacenterMesh.TrustDomain.Name;

    [Test]
    public async Task An_allowed_call_is_traced_from_the_dial_through_both_gateways_to_the_hand_off()
    {
        using var spans = new SpanCollector();
        await using var mesh = await TwoDatacenterMesh.StartAsync();

        await LifeOfAPacketTests.RoundTripAsync(mesh.UpstreamToDc2, [1, 2, 3]);

        int countingPort = mesh.CountingDc2Sidecar.PublicEndPoint!.Port;
        Activity inbound = (await spans.WaitForAsync(MeshActivitySources.InboundConnection, s => Port(s, "server.port") == countingPort))[0];
        Activity outbound = (await spans.WaitForAsync(MeshActivitySources.OutboundConnection))[0];
        IReadOnlyList<Activity> routes = await spans.WaitForAsync(MeshActivitySources.GatewayRoute, count: 2);
        Assert.Multiple(() =>
        {
            Assert.That(spans.Named(MeshActivitySources.InboundConnection).Count(s => Port(s, "server.port") == countingPort), Is.EqualTo(1), "one span per connection");
            Assert.That(spans.Named(MeshActivitySources.OutboundConnection).Count(), Is.EqualTo(1), "one span per connection");
            Assert.That(inbound.Kind, Is.EqualTo(ActivityKind.Server));
            Assert.That(inbound.Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(inbound.GetTagItem("network.peer.address"), Is.EqualTo("127.0.0.1"));
            Assert.That(inbound.GetTagItem("network.peer.port"), Is.InstanceOf<int>());
            Assert.That(inbound.GetTagItem("tls.protocol.version"), Is.EqualTo("1.3"));
            Assert.That(inbound.GetTagItem("mesh.source.service"), Is.EqualTo("dashboard"));
            Assert.That(inbound.GetTagItem("mesh.destination.service"), Is.EqualTo("counting"));
            Assert.That(inbound.GetTagItem("mesh.peer.spiffe_id"), Is.EqualTo(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1").ToSpiffeId(TwoDatacenterMesh.TrustDomain).Value));
            Assert.That(inbound.GetTagItem("mesh.intention.decision"), Is.EqualTo("allow"));
            Assert.That(inbound.GetTagItem("mesh.intention.precedence"), Is.EqualTo(9));
            Assert.That(inbound.GetTagItem("mesh.intention.id"), Is.EqualTo("none (config entry)"));
            Assert.That(inbound.GetTagItem("error.type"), Is.Null);
            Assert.That(inbound.Events.Select(e => e.Name), Is.EqualTo(new[] { "mesh.tls.handshake", "mesh.authorization", "mesh.hand_off" }));
            Assert.That(inbound.Events.Last().Tags.Single(t => t.Key == "server.port").Value, Is.EqualTo(mesh.CountingDc2App.EndPoint.Port), "handed to counting's application");

            Assert.That(outbound.Kind, Is.EqualTo(ActivityKind.Client));
            Assert.That(outbound.Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(outbound.GetTagItem("server.address"), Is.EqualTo("127.0.0.1"));
            Assert.That(outbound.GetTagItem("server.port"), Is.EqualTo(mesh.GatewayDc1.LocalEndPoints[0].Port), "dashboard dials its local gateway");
            Assert.That(outbound.GetTagItem("tls.client.server_name"), Is.EqualTo(CountingSni));
            Assert.That(outbound.GetTagItem("tls.protocol.version"), Is.EqualTo("1.3"));
            Assert.That(outbound.GetTagItem("mesh.source.service"), Is.EqualTo("dashboard"));
            Assert.That(outbound.GetTagItem("mesh.destination.service"), Is.EqualTo("counting"));
            Assert.That(outbound.GetTagItem("mesh.peer.spiffe_id"), Is.EqualTo(new ServiceIdentity(TwoDatacenterMesh.Counting, "dc2").ToSpiffeId(TwoDatacenterMesh.TrustDomain).Value));

            Assert.That(routes.Select(r => r.GetTagItem("mesh.gateway.datacenter")), Is.EquivalentTo(new[] { "dc1", "dc2" }));
            Assert.That(routes.Select(r => r.GetTagItem("tls.client.server_name")), Has.All.EqualTo(CountingSni));
            Assert.That(routes.Single(r => (string?)r.GetTagItem("mesh.gateway.datacenter") == "dc1").GetTagItem("mesh.route"), Is.EqualTo("mesh gateways of dc2"));
            Assert.That(routes.Single(r => (string?)r.GetTagItem("mesh.gateway.datacenter") == "dc2").GetTagItem("mesh.route"), Is.EqualTo("counting in dc2"));
            Assert.That(routes.Select(r => r.GetTagItem("network.peer.address")), Has.All.EqualTo("127.0.0.1"));
            Assert.That(routes.Select(r => r.Status), Has.All.EqualTo(ActivityStatusCode.Unset));
        });
    }

    [Test]
    public async Task A_denied_call_ends_its_server_span_as_an_error_naming_the_intention()
    {
        using var spans = new SpanCollector();
        await using var mesh = await TwoDatacenterMesh.StartAsync("""
            [{ "Kind": "service-intentions", "Name": "counting", "Sources": [ { "Name": "dashboard", "Action": "deny" } ] }]
            """);

        Assert.That(async () => await LifeOfAPacketTests.RoundTripAsync(mesh.UpstreamToDc1, [1]), Throws.InstanceOf<SocketException>());

        Activity inbound = (await spans.WaitForAsync(MeshActivitySources.InboundConnection))[0];
        Assert.Multiple(() =>
        {
            Assert.That(inbound.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(inbound.StatusDescription, Does.Contain("Matched L4 intention"));
            Assert.That(inbound.GetTagItem("error.type"), Is.EqualTo("denied"));
            Assert.That(inbound.GetTagItem("mesh.intention.decision"), Is.EqualTo("deny"));
            Assert.That(inbound.GetTagItem("mesh.intention.precedence"), Is.EqualTo(9));
            Assert.That(inbound.GetTagItem("mesh.source.service"), Is.EqualTo("dashboard"));
            Assert.That(inbound.GetTagItem("server.port"), Is.EqualTo(mesh.CountingDc1Sidecar.PublicEndPoint!.Port));
            Assert.That(inbound.Events.Select(e => e.Name), Does.Not.Contain("mesh.hand_off"), "a denied connection never reaches the application");
        });
    }

    [Test]
    public async Task An_in_process_dial_and_accept_are_traced_and_a_failed_dial_names_its_error()
    {
        using var spans = new SpanCollector();
        await using var mesh = await TwoDatacenterMesh.StartAsync("""
            [{ "Kind": "service-intentions", "Name": "web", "Sources": [ { "Name": "dashboard", "Action": "allow" } ] }]
            """);
        var webIdentity = new ServiceIdentity(new ServiceName("web"), "dc1");
        MeshService web = await mesh.StartInProcess(webIdentity, new Mesh.ControlPlane.InMemoryLeafSource(mesh.IssueLeaf(webIdentity.Service, "dc1")));
        await using MeshListener listener = web.Listen(new System.Net.IPEndPoint(mesh.Address, 0));
        mesh.Register(webIdentity, listener.LocalEndPoint);
        MeshService dashboard = await mesh.StartInProcess(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf);

        await using (MeshStream stream = await dashboard.DialAsync("web"))
        await using (MeshStream accepted = await listener.AcceptAsync())
        {
        }

        Assert.That(async () => await dashboard.DialAsync("nobody"), Throws.InstanceOf<MeshConnectionException>());

        IReadOnlyList<Activity> outbound = await spans.WaitForAsync(MeshActivitySources.OutboundConnection, count: 2);
        Activity inbound = (await spans.WaitForAsync(MeshActivitySources.InboundConnection, s => Port(s, "server.port") == listener.LocalEndPoint.Port))[0];
        Activity dialled = outbound.Single(s => (string?)s.GetTagItem("mesh.destination.service") == "web");
        Activity failed = outbound.Single(s => (string?)s.GetTagItem("mesh.destination.service") == "nobody");
        Assert.Multiple(() =>
        {
            Assert.That(dialled.GetTagItem("server.port"), Is.EqualTo(listener.LocalEndPoint.Port));
            Assert.That(dialled.GetTagItem("tls.client.server_name"), Is.EqualTo("web.default.dc1.internal." + TwoDatacenterMesh.TrustDomain.Name));
            Assert.That(dialled.GetTagItem("mesh.peer.spiffe_id"), Is.EqualTo(web.SpiffeId.Value));
            Assert.That(dialled.Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(failed.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(failed.GetTagItem("error.type"), Is.EqualTo("unknown_upstream"));
            Assert.That(inbound.GetTagItem("mesh.intention.decision"), Is.EqualTo("allow"));
            Assert.That(inbound.GetTagItem("mesh.source.service"), Is.EqualTo("dashboard"));
            Assert.That(inbound.GetTagItem("mesh.destination.service"), Is.EqualTo("web"));
            Assert.That(inbound.GetTagItem("tls.protocol.version"), Is.EqualTo("1.3"));
        });
    }

    private static int? Port(Activity span, string tag) => span.GetTagItem(tag) as int?;
}
