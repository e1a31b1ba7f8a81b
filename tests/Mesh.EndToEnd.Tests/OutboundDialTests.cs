using System.Net;
using System.Net.Sockets;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;
using Mesh.Tls.Sidecar;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The outbound dial as a sidecar's application and an in-process service see it: one dialer behind both, so subsets, a missing
/// gateway and the log lines are the same from either; and a sidecar whose upstreams change while it runs.
/// </summary>
public sealed class OutboundDialTests
{
    [Test]
    public async Task A_sidecar_upstream_to_a_subset_reaches_only_the_endpoints_of_that_subset_with_the_subsets_SNI()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        await using var v2App = TestApplication.Start(mesh.Address);
        await using MeshSidecar v2 = await mesh.StartSidecar(new ServiceIdentity(TwoDatacenterMesh.Counting, "dc1"),
            new InMemoryLeafSource(mesh.IssueLeaf(TwoDatacenterMesh.Counting, "dc1")), v2App.EndPoint);
        mesh.Register(new ServiceIdentity(TwoDatacenterMesh.Counting, "dc1"), v2.PublicEndPoint!, new Dictionary<string, string> { [ServiceEndpoint.SubsetMetaKey] = "v2" });
        await using MeshSidecar caller = await mesh.StartSidecar(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf,
            new IPEndPoint(mesh.Address, 9), new MeshUpstream(TwoDatacenterMesh.Counting, "dc1", new IPEndPoint(mesh.Address, 0)) { Subset = "v2" });

        for (int i = 0; i < 3; i++)
        {
            Assert.That(await LifeOfAPacketTests.RoundTripAsync(caller.UpstreamEndPoints[0], [(byte)i]), Is.EqualTo(new[] { (byte)i }));
        }

        LogEvent connected = await mesh.Logs.WaitForAsync(MeshLogEvents.UpstreamConnected);
        Assert.Multiple(() =>
        {
            Assert.That(v2App.Peers, Has.Count.EqualTo(3), "every call went to the subset's endpoint");
            Assert.That(mesh.CountingDc1App.Peers, Is.Empty, "never to the endpoint outside the subset");
            Assert.That(connected["Sni"], Is.EqualTo("v2.counting.default.dc1.internal." + TwoDatacenterMesh.TrustDomain.Name));
            Assert.That(connected["Upstream"], Is.EqualTo("v2.counting@dc1"));
        });
    }

    [Test]
    public async Task A_remote_datacenter_without_a_local_gateway_fails_with_the_same_status_and_reason_from_a_sidecar_and_in_process()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        mesh.Catalog.Replace([new ServiceEndpoint(new ServiceIdentity(TwoDatacenterMesh.Counting, "dc2"), mesh.CountingDc2Sidecar.PublicEndPoint!)], []);
        MeshService inProcess = await mesh.StartInProcess(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf,
            new MeshUpstream { Name = "counting", Datacenter = "dc2" });

        Assert.That(async () => await LifeOfAPacketTests.RoundTripAsync(mesh.UpstreamToDc2, [1]), Throws.InstanceOf<SocketException>(), "the sidecar resets its application");
        LogEvent fromSidecar = await mesh.Logs.WaitForAsync(MeshLogEvents.UpstreamConnectFailed);
        MeshConnectionException? thrown = Assert.ThrowsAsync<MeshConnectionException>(async () => await inProcess.DialAsync("counting"));
        LogEvent fromInProcess = await mesh.Logs.WaitForAsync(MeshLogEvents.UpstreamConnectFailed, e => e["ClientRemote"] is null);

        Assert.Multiple(() =>
        {
            Assert.That(fromSidecar["ClientRemote"], Is.Not.Null, "the sidecar's line names its application's connection");
            Assert.That(fromSidecar["Status"], Is.EqualTo("NoGateway"));
            Assert.That(fromInProcess["Status"], Is.EqualTo("NoGateway"));
            Assert.That(fromInProcess["Reason"], Is.EqualTo(fromSidecar["Reason"]));
            Assert.That(fromSidecar["Reason"], Is.EqualTo("the catalog lists no mesh gateway in the local datacenter dc1 to reach dc2"));
            Assert.That(thrown!.Error, Is.EqualTo(MeshConnectionError.NoHealthyEndpoint), "the documented error of DialAsync");
            Assert.That(thrown.Message, Is.EqualTo("Upstream counting@dc2: the catalog lists no mesh gateway in the local datacenter dc1 to reach dc2."));
            Assert.That(mesh.CountingDc2App.Peers, Is.Empty);
        });
    }

    [Test]
    public async Task A_denial_at_a_sidecar_is_logged_once_with_the_intentions_id_and_precedence()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync("""
            [{ "Kind": "service-intentions", "Name": "counting", "Sources": [ { "Name": "dashboard", "Action": "deny" } ] }]
            """);

        Assert.That(async () => await LifeOfAPacketTests.RoundTripAsync(mesh.UpstreamToDc1, [1]), Throws.InstanceOf<SocketException>());
        LogEvent denied = await mesh.Logs.WaitForAsync(MeshLogEvents.AuthorizationDenied);
        // A second line for the same decision would be written before the reset the caller has already seen.
        Assert.Multiple(() =>
        {
            Assert.That(mesh.Logs.WithId(MeshLogEvents.AuthorizationDenied).Count(), Is.EqualTo(1), "one line per decision");
            Assert.That(denied["IntentionId"], Is.EqualTo("none (config entry)"));
            Assert.That(denied["Precedence"], Is.EqualTo("9"));
        });
    }

    [Test]
    public async Task An_upstream_added_to_a_running_sidecar_accepts_and_a_removed_one_refuses_new_connections_while_its_open_one_finishes()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        MeshSidecar sidecar = mesh.DashboardSidecar;
        IPEndPoint removedEndPoint = mesh.UpstreamToDc1;
        using var open = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await open.ConnectAsync(removedEndPoint);
        Assert.That(await LifeOfAPacketTests.EchoAsync(open, [1]), Is.EqualTo(new byte[] { 1 }));
        using var occupied = new TcpListener(mesh.Address, 0);
        occupied.Start();

        var toDc2 = new MeshUpstream(TwoDatacenterMesh.Counting, "dc2", new IPEndPoint(mesh.Address, 0));
        var added = new MeshUpstream(TwoDatacenterMesh.Counting, "dc1", new IPEndPoint(mesh.Address, FreePort(mesh.Address)));
        var unbindable = new MeshUpstream(TwoDatacenterMesh.Counting, "dc2", (IPEndPoint)occupied.LocalEndpoint);
        SidecarUpstreamUpdate update = sidecar.UpdateUpstreams([toDc2, added, unbindable]);

        Assert.Multiple(() =>
        {
            Assert.That(update.Added, Is.EqualTo(new[] { added }));
            Assert.That(update.Removed.Select(u => u.ToString()), Is.EqualTo(new[] { "counting@dc1 on " + removedEndPoint.Address + ":0" }));
            Assert.That(update.Failed.Select(f => f.Upstream), Is.EqualTo(new[] { unbindable }), "a bind failure is reported, not fatal");
            Assert.That(sidecar.GetUpstreamEndPoint(added), Is.EqualTo(added.LocalBindAddress));
            Assert.That(sidecar.GetUpstreamEndPoint(unbindable), Is.Null);
        });
        Assert.That(async () => await LifeOfAPacketTests.RoundTripAsync(removedEndPoint, [2]), Throws.InstanceOf<SocketException>()
            .With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.ConnectionRefused), "the removed upstream accepts no new connection");
        Assert.That(await LifeOfAPacketTests.RoundTripAsync(added.LocalBindAddress!, [3]), Is.EqualTo(new byte[] { 3 }), "the added upstream reaches counting");
        Assert.That(await LifeOfAPacketTests.RoundTripAsync(mesh.UpstreamToDc2, [4]), Is.EqualTo(new byte[] { 4 }), "the kept upstream is untouched");
        Assert.That(await LifeOfAPacketTests.EchoAsync(open, [5]), Is.EqualTo(new byte[] { 5 }), "the open connection of the removed upstream still flows");
        Assert.That(update.Drained.IsCompleted, Is.False, "the removed upstream drains while its connection is open");

        open.Shutdown(SocketShutdown.Send);
        await update.Drained.WaitAsync(TimeSpan.FromSeconds(30));
        LogEvent failed = await mesh.Logs.WaitForAsync(MeshLogEvents.UpstreamListenerFailed);
        Assert.That(failed["Upstream"], Does.Contain(occupied.LocalEndpoint.ToString()));
    }

    private static int FreePort(IPAddress address)
    {
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(address, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
