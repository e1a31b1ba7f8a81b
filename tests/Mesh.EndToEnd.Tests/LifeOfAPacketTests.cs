using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Naming;
using Mesh.Tls.Authority;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// dashboard (dc1) calls counting (dc2) through its sidecar, the dc1 and dc2 mesh gateways and counting's sidecar; and counting
/// in dc1 sidecar to sidecar. Real sockets, real TLS, certificates from the mesh CA.
/// </summary>
public sealed class LifeOfAPacketTests
{
    [Test]
    public async Task Cross_datacenter_call_carries_megabytes_intact_both_ways_through_both_gateways()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();

        byte[] payload = RandomNumberGenerator.GetBytes(6 * 1024 * 1024);
        byte[] echoed = await RoundTripAsync(mesh.UpstreamToDc2, payload);

        Assert.That(SHA256.HashData(echoed), Is.EqualTo(SHA256.HashData(payload)), "every byte arrived and came back in order");
        LogEvent upstream = await mesh.Logs.WaitForAsync(MeshLogEvents.UpstreamConnected);
        LogEvent dc1 = await mesh.Logs.WaitForAsync(MeshLogEvents.GatewayRouted, e => e["OutboundRemote"] == mesh.GatewayDc2.LocalEndPoints[0].ToString());
        LogEvent dc2 = await mesh.Logs.WaitForAsync(MeshLogEvents.GatewayRouted, e => e["OutboundRemote"] == mesh.CountingDc2Sidecar.PublicEndPoint!.ToString());
        LogEvent allowed = await mesh.Logs.WaitForAsync(MeshLogEvents.AuthorizationAllowed);
        Assert.Multiple(() =>
        {
            Assert.That(upstream["Remote"], Is.EqualTo(mesh.GatewayDc1.LocalEndPoints[0].ToString()), "dashboard's sidecar dials its local gateway");
            Assert.That(upstream["Remote"], Is.Not.EqualTo(mesh.CountingDc2Sidecar.PublicEndPoint!.ToString()), "and never counting's address");
            Assert.That(upstream["Sni"], Is.EqualTo("counting.default.dc2.internal." + TwoDatacenterMesh.TrustDomain.Name));
            Assert.That(dc1["Sni"], Is.EqualTo(upstream["Sni"]), "the dc1 gateway matched the wildcard chain");
            Assert.That(dc2["Sni"], Is.EqualTo(upstream["Sni"]), "the dc2 gateway matched the exact chain");
            Assert.That(allowed["Peer"], Is.EqualTo(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1").ToSpiffeId(TwoDatacenterMesh.TrustDomain).ToString()));
            Assert.That(allowed["InboundRemote"], Is.EqualTo(dc2["OutboundLocal"]), "counting's sidecar sees the dc2 gateway, not dashboard");
            Assert.That(mesh.CountingDc1App.Peers, Is.Empty);
        });
    }

    [Test]
    public async Task Same_datacenter_call_goes_sidecar_to_sidecar()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();

        byte[] payload = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        byte[] echoed = await RoundTripAsync(mesh.UpstreamToDc1, payload);

        Assert.That(SHA256.HashData(echoed), Is.EqualTo(SHA256.HashData(payload)));
        LogEvent upstream = await mesh.Logs.WaitForAsync(MeshLogEvents.UpstreamConnected);
        Assert.Multiple(() =>
        {
            Assert.That(upstream["Remote"], Is.EqualTo(mesh.CountingDc1Sidecar.PublicEndPoint!.ToString()));
            Assert.That(mesh.Logs.WithId(MeshLogEvents.GatewayRouted), Is.Empty, "no gateway on a same-datacenter call");
            Assert.That(mesh.CountingDc1App.Peers, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public async Task A_deny_intention_resets_the_caller_and_is_logged_then_an_allow_takes_effect_without_restart()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync("""
            [{ "Kind": "service-intentions", "Name": "counting", "Sources": [ { "Name": "dashboard", "Action": "deny", "Description": "not yet" } ] }]
            """);

        Assert.That(async () => await RoundTripAsync(mesh.UpstreamToDc2, [1, 2, 3]), Throws.InstanceOf<SocketException>()
            .With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.ConnectionReset));
        LogEvent denied = await mesh.Logs.WaitForAsync(MeshLogEvents.AuthorizationDenied);
        Assert.Multiple(() =>
        {
            Assert.That(denied.Level, Is.EqualTo(Microsoft.Extensions.Logging.LogLevel.Warning));
            Assert.That(denied["Precedence"], Is.EqualTo("9"), "exact source and destination: precedence 9");
            Assert.That(denied["Decision"], Does.Contain("Matched L4 intention").And.Contain("dashboard").And.Contain("Precedence: 9"));
            Assert.That(denied["IntentionId"], Is.EqualTo("none (config entry)"), "Consul gives config-entry intentions no ID");
            Assert.That(mesh.CountingDc2App.Peers, Is.Empty, "a denied connection never reaches the application");
        });

        mesh.SetIntentions(TwoDatacenterMesh.AllowDashboard);

        byte[] echoed = await RoundTripAsync(mesh.UpstreamToDc2, [4, 5, 6]);
        Assert.That(echoed, Is.EqualTo(new byte[] { 4, 5, 6 }));
    }

    [Test]
    public async Task No_intention_means_deny_by_default()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync("[]");

        Assert.That(async () => await RoundTripAsync(mesh.UpstreamToDc1, [1]), Throws.InstanceOf<SocketException>());
        LogEvent denied = await mesh.Logs.WaitForAsync(MeshLogEvents.AuthorizationDenied);
        Assert.That(denied["IntentionId"], Is.EqualTo("none (default policy)"));
        Assert.That(denied["Decision"], Does.Contain("Default intention policy"));
    }

    [Test]
    public async Task A_peer_with_a_certificate_from_another_ca_is_refused()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        using var otherCa = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = TwoDatacenterMesh.TrustDomain, Datacenter = "dc1" });
        LeafCertificate impostor = otherCa.IssueLeaf(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1").ToSpiffeId(TwoDatacenterMesh.TrustDomain));

        Assert.That(async () => await DirectMeshCallAsync(mesh, impostor, mesh.CountingDc1Sidecar.PublicEndPoint!, "dc1"),
            Throws.InstanceOf<IOException>().Or.InstanceOf<AuthenticationException>());
        LogEvent refused = await mesh.Logs.WaitForAsync(MeshLogEvents.PeerRejected, e => e["Reason"] is not null);
        Assert.That(refused["Reason"], Does.Contain("Untrusted"));
        Assert.That(mesh.Logs.WithId(MeshLogEvents.PeerRejected).Select(e => e.Message), Has.Exactly(1).Items, "one line per refused caller");
        Assert.That(mesh.CountingDc1App.Peers, Is.Empty);
    }

    [Test]
    public async Task An_expired_peer_certificate_is_refused()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        LeafCertificate shortLived = mesh.IssueLeaf(TwoDatacenterMesh.Dashboard, "dc1", TimeSpan.FromSeconds(1));
        // NotBefore is one minute in the past (clock-drift allowance), so a one-second TTL has already expired.
        Assert.That(shortLived.NotAfter, Is.LessThan(DateTimeOffset.UtcNow));

        Assert.That(async () => await DirectMeshCallAsync(mesh, shortLived, mesh.CountingDc1Sidecar.PublicEndPoint!, "dc1"),
            Throws.InstanceOf<IOException>().Or.InstanceOf<AuthenticationException>());
        LogEvent refused = await mesh.Logs.WaitForAsync(MeshLogEvents.PeerRejected, e => e["Reason"] is not null);
        Assert.That(refused["Reason"], Does.Contain("Expired"));
    }

    [Test]
    public async Task A_server_with_the_wrong_service_identity_is_refused_by_the_caller()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        // A "web" sidecar registered under counting's name: the caller checks the SPIFFE ID, not the address or the SNI.
        await using var app = TestApplication.Start();
        await using var web = await mesh.StartSidecar(new ServiceIdentity(new ServiceName("web"), "dc1"),
            new InMemoryLeafSource(mesh.IssueLeaf(new ServiceName("web"), "dc1")), app.EndPoint);
        mesh.Catalog.Replace([new ServiceEndpoint(new ServiceIdentity(TwoDatacenterMesh.Counting, "dc1"), web.PublicEndPoint!)], []);

        Assert.That(async () => await RoundTripAsync(mesh.UpstreamToDc1, [1]), Throws.InstanceOf<SocketException>());
        LogEvent failed = await mesh.Logs.WaitForAsync(MeshLogEvents.UpstreamConnectFailed);
        Assert.That(failed["Reason"], Does.Contain("IdentityMismatch"));
        Assert.That(app.Peers, Is.Empty);
    }

    [Test]
    public async Task Rotating_leaves_mid_stream_keeps_open_connections_and_new_ones_use_the_new_leaf()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(mesh.UpstreamToDc2);
        Assert.That(await EchoAsync(client, [1, 2]), Is.EqualTo(new byte[] { 1, 2 }));

        LeafCertificate renewedDashboard = mesh.IssueLeaf(TwoDatacenterMesh.Dashboard, "dc1");
        mesh.DashboardLeaf.Set(renewedDashboard);
        mesh.CountingDc2Leaf.Set(mesh.IssueLeaf(TwoDatacenterMesh.Counting, "dc2"));

        Assert.That(await EchoAsync(client, [3, 4]), Is.EqualTo(new byte[] { 3, 4 }), "the open connection survived the swap");
        byte[] fresh = await RoundTripAsync(mesh.UpstreamToDc2, [5]);
        Assert.That(fresh, Is.EqualTo(new byte[] { 5 }), "a new connection handshakes with the renewed leaves");
    }

    [Test]
    public async Task The_whole_path_works_over_ipv6()
    {
        await using var mesh = await TwoDatacenterMesh.StartAsync(address: IPAddress.IPv6Loopback);

        byte[] payload = RandomNumberGenerator.GetBytes(256 * 1024);
        byte[] echoed = await RoundTripAsync(mesh.UpstreamToDc2, payload);

        Assert.That(echoed, Is.EqualTo(payload));
        Assert.That(mesh.UpstreamToDc2.AddressFamily, Is.EqualTo(AddressFamily.InterNetworkV6));
    }

    /// <summary>Sends <paramref name="payload"/> while reading the echo, half-closes, and reads to the end.</summary>
    internal static async Task<byte[]> RoundTripAsync(IPEndPoint endPoint, byte[] payload)
    {
        using var client = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(endPoint);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task send = Task.Run(async () =>
        {
            for (int offset = 0; offset < payload.Length;)
            {
                int chunk = Math.Min(Random.Shared.Next(1, 64 * 1024), payload.Length - offset);
                offset += await client.SendAsync(payload.AsMemory(offset, chunk), SocketFlags.None, timeout.Token);
            }

            client.Shutdown(SocketShutdown.Send);
        });

        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int read = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
        }

        await send;
        return received.ToArray();
    }

    internal static async Task<byte[]> EchoAsync(Socket client, byte[] message)
    {
        await client.SendAsync(message);
        var buffer = new byte[message.Length];
        for (int read = 0; read < buffer.Length;)
        {
            int n = await client.ReceiveAsync(buffer.AsMemory(read));
            Assert.That(n, Is.GreaterThan(0), "the connection ended early");
            read += n;
        }

        return buffer;
    }

    /// <summary>Dials a sidecar's public listener directly with mesh mTLS and a given leaf, then writes and reads.</summary>
    private static async Task DirectMeshCallAsync(TwoDatacenterMesh mesh, LeafCertificate leaf, IPEndPoint sidecar, string datacenter)
    {
        using var tcp = new TcpClient(sidecar.AddressFamily);
        await tcp.ConnectAsync(sidecar);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = ConsulSniName.ForService(TwoDatacenterMesh.Counting, datacenter, TwoDatacenterMesh.TrustDomain).ToString(),
            ClientCertificateContext = SslStreamCertificateContext.Create(leaf.Certificate, [.. leaf.Intermediates], offline: true),
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && mesh.Ca.Roots.Any(r => c.Issuer == r.Certificate.Subject),
        });

        // TLS 1.3: the client's handshake completes before the server has checked the client certificate; the refusal
        // arrives on the first read.
        await tls.WriteAsync(new byte[] { 1 });
        var buffer = new byte[1];
        int read = await tls.ReadAsync(buffer);
        if (read == 0)
        {
            throw new IOException("the connection was closed");
        }
    }
}

