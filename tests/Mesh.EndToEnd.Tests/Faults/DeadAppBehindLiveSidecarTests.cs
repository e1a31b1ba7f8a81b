using System.Net;
using System.Net.Sockets;
using System.Text;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Endpoints;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.Outbound;
using Mesh.Tls.Sidecar;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>
/// Two instances of counting, one of whose applications dies while its sidecar lives on: the sidecar notices, refuses inbound
/// connections before any handshake, and callers (a sidecar directly, or two gateways) move to the other instance; when the
/// application is back, so is its traffic.
/// </summary>
public sealed class DeadAppBehindLiveSidecarTests
{
    [Test]
    public async Task Calls_keep_succeeding_while_one_app_is_dead_and_reach_it_again_once_it_is_back()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        await using EchoApp appA = EchoApp.Start();
        await using EchoApp appB = EchoApp.Start();
        var counting = new ServiceIdentity(TwoDatacenterMesh.Counting, "dc1");
        var leaf = new InMemoryLeafSource(mesh.IssueLeaf(TwoDatacenterMesh.Counting, "dc1"));
        await using MeshSidecar sidecarA = await StartSidecar(mesh, counting, leaf, appA.EndPoint);
        await using MeshSidecar sidecarB = await StartSidecar(mesh, counting, leaf, appB.EndPoint);

        // Only the two instances here: the one TwoDatacenterMesh runs for counting in dc1 is left out of this caller's view.
        var catalog = new InMemoryServiceCatalog(
            [new(counting, sidecarA.PublicEndPoint!), new(counting, sidecarB.PublicEndPoint!)], []);
        var callerOptions = new SidecarOptions
        {
            Service = new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"),
            TrustDomain = TwoDatacenterMesh.TrustDomain,
            PublicListener = new IPEndPoint(IPAddress.Loopback, 0),
            LocalApplication = appB.EndPoint,
            LocalApplicationCheckInterval = TimeSpan.Zero,
            UpstreamConnectTimeout = TimeSpan.FromSeconds(2),
            OutlierDetection = new OutlierDetectionOptions { BaseEjectionTime = TimeSpan.FromMilliseconds(500), MaxEjectionTime = TimeSpan.FromSeconds(1) },
        };
        callerOptions.Upstreams.Add(new MeshUpstream(TwoDatacenterMesh.Counting, "dc1", new IPEndPoint(IPAddress.Loopback, 0)));
        await using var caller = new MeshSidecar(callerOptions, mesh.DashboardLeaf, mesh.Ca.TrustBundleSource, catalog, mesh.Intentions, mesh.Logs);
        await caller.StartAsync();
        IPEndPoint upstream = caller.UpstreamEndPoints[0];

        for (int i = 0; i < 10; i++)
        {
            Assert.That(await UpstreamCall.SendAsync(upstream, "warm" + i), Is.EqualTo("warm" + i));
        }

        Assert.That(appA.Served, Is.Positive, "both instances serve before the fault");
        Assert.That(sidecarA.IsLocalApplicationHealthy, Is.True);

        await appA.KillAsync();

        // The detection window: the check's interval, or the first call that finds the application gone.
        await WaitUntil(() => !sidecarA.IsLocalApplicationHealthy, "the sidecar notices its application is gone");
        await mesh.Logs.WaitForAsync(MeshLogEvents.LocalAppHealthChanged);
        int servedByB = appB.Served;
        for (int i = 0; i < 20; i++)
        {
            Assert.That(await UpstreamCall.SendAsync(upstream, "down" + i), Is.EqualTo("down" + i), $"call {i} while one app is dead");
        }

        Assert.That(appB.Served - servedByB, Is.EqualTo(20), "the live instance served every call");
        Assert.That(mesh.Logs.WithId(MeshLogEvents.EndpointEjected).Select(e => e["Endpoint"]), Has.Member(sidecarA.PublicEndPoint!.ToString()),
            "the caller took the refusing sidecar out of its rotation");
        Assert.That(async () => await ConnectAsync(sidecarA.PublicEndPoint!), Throws.InstanceOf<SocketException>(),
            "the dead app's sidecar refuses connections before any handshake");

        appA.Restart();
        await WaitUntil(() => sidecarA.IsLocalApplicationHealthy, "the sidecar notices its application is back");
        int servedByA = appA.Served;
        for (int i = 0; i < 100 && appA.Served == servedByA; i++)
        {
            Assert.That(await UpstreamCall.SendAsync(upstream, "up" + i), Is.EqualTo("up" + i));
            await Task.Delay(20);
        }

        Assert.That(appA.Served, Is.GreaterThan(servedByA), "the app receives traffic again once it is back");
    }

    [Test]
    public async Task Calls_through_both_gateways_keep_succeeding_while_one_app_is_dead()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        await using EchoApp appA = EchoApp.Start();
        await using EchoApp appB = EchoApp.Start();
        var countingDc2 = new ServiceIdentity(TwoDatacenterMesh.Counting, "dc2");
        await using MeshSidecar sidecarA = await StartSidecar(mesh, countingDc2, mesh.CountingDc2Leaf, appA.EndPoint);
        await using MeshSidecar sidecarB = await StartSidecar(mesh, countingDc2, mesh.CountingDc2Leaf, appB.EndPoint);
        mesh.Register(countingDc2, sidecarA.PublicEndPoint!);
        mesh.Register(countingDc2, sidecarB.PublicEndPoint!);

        for (int i = 0; i < 6; i++)
        {
            Assert.That(await UpstreamCall.SendAsync(mesh.UpstreamToDc2, "warm" + i), Is.EqualTo("warm" + i));
        }

        Assert.That(appA.Served, Is.Positive, "the dc2 gateway spreads calls over the instances before the fault");

        await appA.KillAsync();
        await WaitUntil(() => !sidecarA.IsLocalApplicationHealthy, "the sidecar notices its application is gone");
        int served = appA.Served;
        for (int i = 0; i < 20; i++)
        {
            Assert.That(await UpstreamCall.SendAsync(mesh.UpstreamToDc2, "down" + i), Is.EqualTo("down" + i), $"call {i} while one app is dead");
        }

        Assert.That(appA.Served, Is.EqualTo(served), "no call went to the dead app");
        Assert.That(mesh.Logs.WithId(MeshLogEvents.GatewayEndpointFailed).Count(), Is.LessThanOrEqualTo(3),
            "the dc2 gateway ejected the refusing sidecar after its third failed connect");
    }

    private static async Task<MeshSidecar> StartSidecar(TwoDatacenterMesh mesh, ServiceIdentity service, ILeafSource leaf, IPEndPoint application)
    {
        var options = new SidecarOptions
        {
            Service = service,
            TrustDomain = TwoDatacenterMesh.TrustDomain,
            PublicListener = new IPEndPoint(IPAddress.Loopback, 0),
            LocalApplication = application,
            HandshakeTimeout = TimeSpan.FromSeconds(5),
            LocalApplicationCheckInterval = TimeSpan.FromMilliseconds(200),
        };
        var sidecar = new MeshSidecar(options, leaf, mesh.Ca.TrustBundleSource, mesh.Catalog, mesh.Intentions, mesh.Logs);
        await sidecar.StartAsync();
        return sidecar;
    }

    private static async Task ConnectAsync(IPEndPoint endPoint)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint);
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        for (int i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.That(condition(), Is.True, what);
    }
}
