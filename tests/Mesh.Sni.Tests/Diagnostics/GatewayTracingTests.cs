using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Identity;
using Mesh.Sni.Gateway;
using Mesh.Sni.Tests.Support;

namespace Mesh.Sni.Tests.Diagnostics;

/// <summary>
/// The route-decision span a tracer subscribed to <see cref="MeshActivitySources.Gateway"/> sees for each connection, on both
/// engines: the epoll loop (Linux) and the socket engine (reached here through a splice clock other than the system's).
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
[NonParallelizable]
public sealed class GatewayTracingTests(bool socketEngine)
{
    private static readonly TrustDomain Td = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");

    [Test]
    public async Task A_routed_and_an_unroutable_connection_each_get_a_route_span_with_the_sni_and_the_decision()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MeshActivitySources.Gateway,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        backend.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        backend.Listen();
        var catalog = new InMemoryServiceCatalog([new ServiceEndpoint(new ServiceIdentity(new ServiceName("counting"), "dc2"), (IPEndPoint)backend.LocalEndPoint!)], []);
        var options = new MeshGatewayOptions { Datacenter = "dc2", TrustDomain = Td, ConnectTimeout = TimeSpan.FromSeconds(2) };
        options.ListenEndPoints.Add(new IPEndPoint(IPAddress.Loopback, 0));
        if (socketEngine)
        {
            options.Splice = new Mesh.Splicing.SpliceOptions { TimeProvider = new OwnClock() };
        }

        await using var gateway = new MeshGateway(options, catalog);
        await gateway.StartAsync();
        string routed = "counting.default.dc2.internal." + Td.Name;
        string unknown = "nobody.default.dc2.internal." + Td.Name;

        using Socket first = await SendHelloAsync(gateway.LocalEndPoints[0], routed);
        using Socket upstream = await backend.AcceptAsync();
        using Socket second = await SendHelloAsync(gateway.LocalEndPoints[0], unknown);
        Assert.That(await second.ReceiveAsync(new byte[1], SocketFlags.None), Is.Zero, "the unroutable connection is closed");

        Activity[] routes = await WaitForRoutesAsync(spans, 2);
        Activity ok = routes.Single(r => (string?)r.GetTagItem("tls.client.server_name") == routed);
        Activity refused = routes.Single(r => (string?)r.GetTagItem("tls.client.server_name") == unknown);
        Assert.Multiple(() =>
        {
            Assert.That(ok.Kind, Is.EqualTo(ActivityKind.Server));
            Assert.That(ok.Status, Is.EqualTo(ActivityStatusCode.Unset));
            Assert.That(ok.GetTagItem("mesh.route"), Is.EqualTo("counting in dc2"));
            Assert.That(ok.GetTagItem("mesh.gateway.datacenter"), Is.EqualTo("dc2"));
            Assert.That(ok.GetTagItem("network.peer.address"), Is.EqualTo("127.0.0.1"));
            Assert.That(ok.GetTagItem("network.peer.port"), Is.EqualTo(((IPEndPoint)first.LocalEndPoint!).Port));
            Assert.That(ok.GetTagItem("error.type"), Is.Null);
            Assert.That(refused.Status, Is.EqualTo(ActivityStatusCode.Error));
            Assert.That(refused.GetTagItem("error.type"), Is.EqualTo("no_route"));
            Assert.That(refused.GetTagItem("mesh.route"), Is.Null);
            Assert.That(refused.GetTagItem("network.peer.port"), Is.EqualTo(((IPEndPoint)second.LocalEndPoint!).Port));
        });
    }

    private static async Task<Socket> SendHelloAsync(IPEndPoint gateway, string serverName)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(gateway);
        await client.SendAsync(HelloBuilder.Records(HelloBuilder.Handshake(HelloBuilder.TypicalBody(serverName))), SocketFlags.None);
        return client;
    }

    private static async Task<Activity[]> WaitForRoutesAsync(ConcurrentQueue<Activity> spans, int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            Activity[] routes = [.. spans.Where(s => s.OperationName == MeshActivitySources.GatewayRoute)];
            if (routes.Length >= count || timeout.IsCancellationRequested)
            {
                return routes;
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    // The system clock under another identity: the gateway then runs on its socket engine.
    private sealed class OwnClock : TimeProvider;
}
