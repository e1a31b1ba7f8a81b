using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;
using Mesh.Tls.Sidecar;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// .NET services in the mesh without a sidecar: dial and accept over real loopback sockets with CA-minted certificates, across
/// the sidecar boundary both ways and across datacenters through both gateways.
/// </summary>
public sealed class InProcessMeshTests
{
    private static readonly ServiceName Web = new("web");

    private const string AllowDashboardToWeb = """
        [{ "Kind": "service-intentions", "Name": "counting", "Sources": [ { "Name": "dashboard", "Action": "allow" } ] },
         { "Kind": "service-intentions", "Name": "web", "Sources": [ { "Name": "dashboard", "Action": "allow" } ] }]
        """;

    [Test]
    public async Task An_in_process_caller_dials_an_in_process_service_and_each_side_sees_the_others_identity()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(AllowDashboardToWeb);
        (MeshService web, MeshListener listener) = await StartWebAsync(mesh);
        await using var _ = listener;
        MeshService dashboard = await mesh.StartInProcess(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf);
        Task<SpiffeId> server = EchoOnceAsync(listener);

        await using MeshStream stream = await dashboard.DialAsync("web");
        byte[] payload = RandomNumberGenerator.GetBytes(512 * 1024);
        byte[] echoed = await RoundTripAsync(stream, payload);

        Assert.Multiple(async () =>
        {
            Assert.That(echoed, Is.EqualTo(payload));
            Assert.That(stream.Peer, Is.EqualTo(web.SpiffeId), "the caller authenticated the server's SVID");
            Assert.That(await server, Is.EqualTo(dashboard.SpiffeId), "the server authenticated the caller's SVID");
            Assert.That(stream.RemoteEndPoint, Is.EqualTo(listener.LocalEndPoint));
            Assert.That(stream.SslProtocol, Is.EqualTo(System.Security.Authentication.SslProtocols.Tls13));
        });
    }

    [Test]
    public async Task An_in_process_caller_reaches_a_sidecar_fronted_service_locally_and_across_datacenters_through_both_gateways()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        MeshService dashboard = await mesh.StartInProcess(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf,
            new MeshUpstream { Name = "counting", Datacenter = "dc2" });

        await using (MeshStream local = await dashboard.DialAsync("counting", datacenter: "dc1"))
        {
            Assert.That(await RoundTripAsync(local, [1, 2, 3]), Is.EqualTo(new byte[] { 1, 2, 3 }));
            Assert.That(local.RemoteEndPoint, Is.EqualTo(mesh.CountingDc1Sidecar.PublicEndPoint), "same datacenter: straight to counting's sidecar");
        }

        byte[] payload = RandomNumberGenerator.GetBytes(1024 * 1024);
        await using MeshStream remote = await dashboard.DialAsync("counting");
        byte[] echoed = await RoundTripAsync(remote, payload);

        LogEvent dc1 = await mesh.Logs.WaitForAsync(MeshLogEvents.GatewayRouted, e => e["OutboundRemote"] == mesh.GatewayDc2.LocalEndPoints[0].ToString());
        LogEvent dc2 = await mesh.Logs.WaitForAsync(MeshLogEvents.GatewayRouted, e => e["OutboundRemote"] == mesh.CountingDc2Sidecar.PublicEndPoint!.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(SHA256.HashData(echoed), Is.EqualTo(SHA256.HashData(payload)));
            Assert.That(remote.RemoteEndPoint, Is.EqualTo(mesh.GatewayDc1.LocalEndPoints[0]), "remote datacenter: the local gateway");
            Assert.That(remote.Upstream, Is.EqualTo("counting@dc2"));
            Assert.That(remote.Peer, Is.EqualTo(new ServiceIdentity(TwoDatacenterMesh.Counting, "dc2").ToSpiffeId(TwoDatacenterMesh.TrustDomain)));
            Assert.That(dc1["Sni"], Is.EqualTo("counting.default.dc2.internal." + TwoDatacenterMesh.TrustDomain.Name));
            Assert.That(dc2["Sni"], Is.EqualTo(dc1["Sni"]));
            Assert.That(mesh.CountingDc2App.Peers, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public async Task An_accepted_connection_is_logged_under_one_connection_id_so_the_ids_of_consecutive_connections_have_no_gaps()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(AllowDashboardToWeb);
        (MeshService _, MeshListener listener) = await StartWebAsync(mesh);
        await using var __ = listener;
        MeshService dashboard = await mesh.StartInProcess(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf);

        // One process holds both ends: each dial draws an ID, then the accept of that same connection draws the next one. An
        // ID drawn and never logged would show as a gap an operator cannot explain.
        var ids = new List<long>();
        for (int i = 0; i < 2; i++)
        {
            await using MeshStream client = await dashboard.DialAsync("web");
            await using MeshStream server = await listener.AcceptAsync();
            ids.Add(Id(await mesh.Logs.WaitForAsync(MeshLogEvents.UpstreamConnected, e => !ids.Contains(Id(e)))));
            ids.Add(Id(await mesh.Logs.WaitForAsync(MeshLogEvents.InProcessAccepted, e => !ids.Contains(Id(e)))));
        }

        Assert.That(ids, Is.EqualTo(Enumerable.Range((int)ids[0], 4).Select(i => (long)i)), "dial, accept, dial, accept: one ID each");

        static long Id(LogEvent e) => long.Parse(e["ConnectionId"]!, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Test]
    public async Task A_sidecar_fronted_caller_reaches_an_in_process_service()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(AllowDashboardToWeb);
        (MeshService _, MeshListener listener) = await StartWebAsync(mesh);
        await using var __ = listener;
        await using MeshSidecar caller = await mesh.StartSidecar(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf,
            new IPEndPoint(IPAddress.Loopback, 9), new MeshUpstream(Web, "dc1", new IPEndPoint(IPAddress.Loopback, 0)));
        Task<SpiffeId> server = EchoOnceAsync(listener);

        byte[] payload = RandomNumberGenerator.GetBytes(256 * 1024);
        byte[] echoed = await LifeOfAPacketTests.RoundTripAsync(caller.UpstreamEndPoints[0], payload);

        Assert.That(echoed, Is.EqualTo(payload));
        Assert.That(await server, Is.EqualTo(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1").ToSpiffeId(TwoDatacenterMesh.TrustDomain)));
    }

    [Test]
    public async Task A_denied_caller_is_reset_after_the_handshake_and_its_first_read_names_the_upstream()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(TwoDatacenterMesh.AllowDashboard);
        (MeshService _, MeshListener listener) = await StartWebAsync(mesh);
        await using var __ = listener;
        MeshService dashboard = await mesh.StartInProcess(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf);

        await using MeshStream stream = await dashboard.DialAsync("web");
        // The reset may fail the write (when it arrives first) or the read after it: either names the upstream.
        MeshConnectionException? refused = Assert.ThrowsAsync<MeshConnectionException>(async () =>
        {
            await stream.WriteAsync(new byte[] { 1 });
            _ = await stream.ReadAsync(new byte[16]);
        });

        LogEvent denied = await mesh.Logs.WaitForAsync(MeshLogEvents.AuthorizationDenied);
        Assert.Multiple(() =>
        {
            Assert.That(refused!.Error, Is.EqualTo(MeshConnectionError.RefusedByPeer));
            Assert.That(refused.Message, Does.Contain("web@dc1"));
            Assert.That(refused.InnerException, Is.InstanceOf<IOException>());
            Assert.That(refused.InnerException!.InnerException, Is.InstanceOf<SocketException>()
                .With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.ConnectionReset)
                .Or.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.Shutdown), "a reset, as the sidecar (EPIPE when a write meets it)");
            Assert.That(denied["Decision"], Does.Contain("Default intention policy"));
            Assert.That(denied["IntentionId"], Is.EqualTo("none (default policy)"));
        });
    }

    [Test]
    public async Task A_server_with_the_wrong_identity_an_unknown_upstream_and_no_endpoint_fail_with_errors_naming_the_upstream()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(AllowDashboardToWeb);
        (MeshService _, MeshListener listener) = await StartWebAsync(mesh, register: false);
        await using var __ = listener;
        // web's listener registered under a "billing" name: the caller checks the SPIFFE ID, not the address.
        mesh.Register(new ServiceIdentity(new ServiceName("billing"), "dc1"), listener.LocalEndPoint);
        MeshService dashboard = await mesh.StartInProcess(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf,
            new MeshUpstream { Name = "ledger" });

        MeshConnectionException? mismatch = Assert.ThrowsAsync<MeshConnectionException>(async () => await dashboard.DialAsync("billing"));
        MeshConnectionException? unknown = Assert.ThrowsAsync<MeshConnectionException>(async () => await dashboard.DialAsync("nosuch"));
        MeshConnectionException? none = Assert.ThrowsAsync<MeshConnectionException>(async () => await dashboard.DialAsync("ledger"));
        MeshConnectionException? subset = Assert.ThrowsAsync<MeshConnectionException>(async () => await dashboard.DialAsync("billing", subset: "v2"));
        Assert.Multiple(() =>
        {
            Assert.That(mismatch!.Error, Is.EqualTo(MeshConnectionError.IdentityMismatch));
            Assert.That(mismatch.Message, Does.Contain("billing@dc1").And.Contain("/svc/web"));
            Assert.That(unknown!.Error, Is.EqualTo(MeshConnectionError.UnknownUpstream));
            Assert.That(unknown.Message, Does.Contain("nosuch@dc1"));
            Assert.That(none!.Error, Is.EqualTo(MeshConnectionError.NoHealthyEndpoint));
            Assert.That(none.Message, Does.Contain("ledger@dc1"));
            Assert.That(subset!.Error, Is.EqualTo(MeshConnectionError.NoHealthyEndpoint));
            Assert.That(subset.Message, Does.Contain("v2.billing@dc1"));
        });
    }

    [Test]
    public async Task A_plain_text_caller_is_refused_with_the_handshakes_own_error_not_a_certificate_rule()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(AllowDashboardToWeb);
        (MeshService _, MeshListener listener) = await StartWebAsync(mesh);
        await using var __ = listener;

        using var caller = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await caller.ConnectAsync(listener.LocalEndPoint);
        await caller.SendAsync("GET / HTTP/1.1\r\nHost: web\r\n\r\n"u8.ToArray());

        // No certificate was ever judged: the operator must read why the TLS handshake failed, not a certificate rule.
        LogEvent refused = await mesh.Logs.WaitForAsync(MeshLogEvents.PeerRejected);
        Assert.That(refused["Reason"], Does.Not.StartWith(nameof(Tls.Validation.SvidValidationStatus.NoCertificate)), refused.Message);
    }

    [Test]
    public async Task A_caller_whose_certificate_is_refused_is_logged_once()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(AllowDashboardToWeb);
        (MeshService _, MeshListener listener) = await StartWebAsync(mesh);
        await using var __ = listener;
        using var otherCa = new Tls.Authority.MeshCertificateAuthority(new Tls.Authority.MeshCaOptions { TrustDomain = TwoDatacenterMesh.TrustDomain, Datacenter = "dc1" });
        MeshService impostor = await StartImpostorDashboardAsync(mesh, otherCa);

        Assert.ThrowsAsync<MeshConnectionException>(async () =>
        {
            await using MeshStream stream = await impostor.DialAsync("web");
            _ = await stream.ReadAsync(new byte[1]);
        });

        // The certificate is judged inside the handshake and the refusal logged after it: once the line naming the rule is
        // written, every line about this refusal is.
        await mesh.Logs.WaitForAsync(MeshLogEvents.PeerRejected, e => e["Reason"] is not null && e["Reason"]!.Contains("Untrusted", StringComparison.Ordinal));
        Assert.That(mesh.Logs.WithId(MeshLogEvents.PeerRejected).Select(e => e.Message), Has.Exactly(1).Items, "one line per refused caller");
    }

    [Test]
    public async Task A_caller_with_a_certificate_from_another_ca_is_refused_by_an_in_process_service()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(AllowDashboardToWeb);
        (MeshService _, MeshListener listener) = await StartWebAsync(mesh);
        await using var __ = listener;
        using var otherCa = new Tls.Authority.MeshCertificateAuthority(new Tls.Authority.MeshCaOptions { TrustDomain = TwoDatacenterMesh.TrustDomain, Datacenter = "dc1" });
        MeshService impostor = await StartImpostorDashboardAsync(mesh, otherCa);

        MeshConnectionException? refused = Assert.ThrowsAsync<MeshConnectionException>(async () =>
        {
            // The impostor also refuses web's certificate (it trusts only its own CA)... so give it the mesh bundle's view by
            // reading first: either side's refusal must end the connection with an error, never data.
            await using MeshStream stream = await impostor.DialAsync("web");
            _ = await stream.ReadAsync(new byte[1]);
        });
        Assert.That(refused!.Error, Is.AnyOf(MeshConnectionError.RefusedByPeer, MeshConnectionError.HandshakeFailed));
        LogEvent rejected = await mesh.Logs.WaitForAsync(MeshLogEvents.PeerRejected, e => e["Reason"] is not null && e["Reason"]!.Contains("Untrusted", StringComparison.Ordinal));
        Assert.That(rejected, Is.Not.Null);
    }

    [Test]
    public async Task Rotating_leaves_keeps_open_connections_and_new_ones_use_the_new_leaf()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(AllowDashboardToWeb);
        var webLeaf = new InMemoryLeafSource(mesh.IssueLeaf(Web, "dc1"));
        (MeshService web, MeshListener listener) = await StartWebAsync(mesh, leaf: webLeaf);
        await using var _ = listener;
        MeshService dashboard = await mesh.StartInProcess(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf);
        Task serve = EchoForeverAsync(listener);

        await using MeshStream open = await dashboard.DialAsync("web");
        Assert.That(await EchoAsync(open, [1, 2]), Is.EqualTo(new byte[] { 1, 2 }));
        string before = web.CurrentLeaf!.Certificate.SerialNumber;

        webLeaf.Set(mesh.IssueLeaf(Web, "dc1"));
        mesh.DashboardLeaf.Set(mesh.IssueLeaf(TwoDatacenterMesh.Dashboard, "dc1"));

        Assert.That(await EchoAsync(open, [3, 4]), Is.EqualTo(new byte[] { 3, 4 }), "the open connection survived the swap");
        await using MeshStream fresh = await dashboard.DialAsync("web");
        Assert.That(await EchoAsync(fresh, [5]), Is.EqualTo(new byte[] { 5 }), "a new connection handshakes with the renewed leaves");
        Assert.That(web.CurrentLeaf!.Certificate.SerialNumber, Is.Not.EqualTo(before));
    }

    [Test]
    public async Task Dial_honours_cancellation_and_the_connect_timeout()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(AllowDashboardToWeb);
        MeshService dashboard = await mesh.StartInProcess(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1"), mesh.DashboardLeaf);
        // A listener that never completes a handshake: the dial must end by cancellation, not hang.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen();
        mesh.Register(new ServiceIdentity(Web, "dc1"), (IPEndPoint)silent.LocalEndPoint!);

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.That(async () => await dashboard.DialAsync("web", cancellationToken: cancel.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    private static async Task<(MeshService Service, MeshListener Listener)> StartWebAsync(TwoDatacenterMesh mesh, bool register = true, ILeafSource? leaf = null)
    {
        MeshService web = await mesh.StartInProcess(new ServiceIdentity(Web, "dc1"), leaf ?? new InMemoryLeafSource(mesh.IssueLeaf(Web, "dc1")));
        MeshListener listener = web.Listen(new IPEndPoint(IPAddress.Loopback, 0));
        if (register)
        {
            mesh.Register(new ServiceIdentity(Web, "dc1"), listener.LocalEndPoint);
        }

        return (web, listener);
    }

    private static async Task<SpiffeId> EchoOnceAsync(MeshListener listener)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using MeshStream stream = await listener.AcceptAsync(timeout.Token);
        await EchoToEndAsync(stream, timeout.Token);
        return stream.Peer;
    }

    private static async Task EchoForeverAsync(MeshListener listener)
    {
        while (true)
        {
            MeshStream stream;
            try
            {
                stream = await listener.AcceptAsync();
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                await using (stream)
                {
                    try
                    {
                        await EchoToEndAsync(stream, CancellationToken.None);
                    }
                    catch (IOException)
                    {
                    }
                }
            });
        }
    }

    private static async Task EchoToEndAsync(MeshStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int read = await stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                await stream.ShutdownAsync();
                return;
            }

            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    private static async Task<byte[]> EchoAsync(Stream stream, byte[] payload)
    {
        await stream.WriteAsync(payload);
        var buffer = new byte[payload.Length];
        await stream.ReadExactlyAsync(buffer);
        return buffer;
    }

    /// <summary>Sends while reading the echo, closes its sending side (TLS close_notify) and reads to the end.</summary>
    private static async Task<byte[]> RoundTripAsync(MeshStream stream, byte[] payload)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task send = Task.Run(async () =>
        {
            for (int offset = 0; offset < payload.Length;)
            {
                int chunk = Math.Min(Random.Shared.Next(1, 64 * 1024), payload.Length - offset);
                await stream.WriteAsync(payload.AsMemory(offset, chunk), timeout.Token);
                offset += chunk;
            }

            await stream.ShutdownAsync();
        });

        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        await send;
        return received.ToArray();
    }

    // "dashboard" as its name says, but with a leaf from a CA the mesh does not trust.
    private static Task<MeshService> StartImpostorDashboardAsync(TwoDatacenterMesh mesh, Tls.Authority.MeshCertificateAuthority otherCa)
    {
        var dashboard = new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1");
        return mesh.StartInProcess(dashboard, new InMemoryLeafSource(otherCa.IssueLeaf(dashboard.ToSpiffeId(TwoDatacenterMesh.TrustDomain))));
    }
}
