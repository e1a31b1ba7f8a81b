using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.MutualTls;
using Mesh.Tls.Validation;

namespace Mesh.Tls.Tests.MutualTls;

public sealed class MeshTlsFactoryTests
{
    internal static readonly SpiffeId Web = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/web");
    internal static readonly SpiffeId Api = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/api");

    internal static MeshCertificateAuthority NewCa(bool intermediate = false) =>
        new(new MeshCaOptions { TrustDomain = Web.TrustDomain, UseIntermediate = intermediate, SigningRateLimit = 0 });

    internal static MeshTlsFactory Factory(MeshCertificateAuthority ca, LeafCertificate leaf, ITrustBundleSource? bundle = null, MeshTlsOptions? options = null) =>
        new(new InMemoryLeafSource(leaf), new SvidValidator(bundle ?? ca.TrustBundleSource), options);

    [TestCase(SslProtocols.Tls13)]
    [TestCase(SslProtocols.Tls12)]
    public async Task Both_sides_learn_the_peers_spiffe_id(SslProtocols protocol)
    {
        using MeshCertificateAuthority ca = NewCa(intermediate: true);
        MeshTlsFactory server = Factory(ca, ca.IssueLeaf(Api));
        MeshTlsFactory client = Factory(ca, ca.IssueLeaf(Web));
        (Socket a, Socket b) = await Pair();
        using var serverStream = new SslStream(new NetworkStream(a, ownsSocket: true));
        using var clientStream = new SslStream(new NetworkStream(b, ownsSocket: true));
        MeshTlsHandshake serverHandshake = server.CreateServerHandshake(PeerAuthorizer.Exact(Web));
        serverHandshake.ServerOptions!.EnabledSslProtocols = protocol;
        Task serverTask = serverStream.AuthenticateAsServerAsync(serverHandshake.ServerOptions, Timeout());
        SvidValidationResult clientResult = await client.AuthenticateAsClientAsync(clientStream, "api.default.dc1.internal.example.consul", PeerAuthorizer.Exact(Api), Timeout());
        await serverTask;
        await clientStream.WriteAsync("ping"u8.ToArray(), Timeout());
        byte[] buffer = new byte[4];
        await serverStream.ReadExactlyAsync(buffer, Timeout());
        Assert.Multiple(() =>
        {
            Assert.That(clientStream.SslProtocol, Is.EqualTo(protocol));
            Assert.That(clientResult.PeerId, Is.EqualTo(Api));
            Assert.That(serverHandshake.Result.IsValid, Is.True, serverHandshake.Result.ToString());
            Assert.That(serverHandshake.Result.PeerId, Is.EqualTo(Web));
            Assert.That(Encoding.ASCII.GetString(buffer), Is.EqualTo("ping"));
            Assert.That(serverStream.IsMutuallyAuthenticated, Is.True);
        });
    }

    [Test]
    public async Task A_client_from_another_ca_is_refused_and_sees_it_on_its_first_read_in_tls13()
    {
        using MeshCertificateAuthority ca = NewCa();
        using MeshCertificateAuthority rogue = NewCa();
        MeshTlsFactory server = Factory(ca, ca.IssueLeaf(Api));

        // The rogue client trusts the real CA, so only the server's check can refuse it.
        MeshTlsFactory client = Factory(rogue, rogue.IssueLeaf(Web), ca.TrustBundleSource);
        (Socket a, Socket b) = await Pair();
        using var serverStream = new SslStream(new NetworkStream(a, ownsSocket: true));
        using var clientStream = new SslStream(new NetworkStream(b, ownsSocket: true));
        Task<SvidValidationResult> serverTask = server.AuthenticateAsServerAsync(serverStream, PeerAuthorizer.AnyValid, Timeout()).AsTask();

        // TLS 1.3: the client's handshake may complete before the server refuses; then the refusal arrives on the first read.
        Task<int> clientTask = Task.Run(async () =>
        {
            await client.AuthenticateAsClientAsync(clientStream, "api", PeerAuthorizer.Exact(Api), Timeout());
            return await clientStream.ReadAsync(new byte[1], Timeout());
        });
        var refusal = Assert.ThrowsAsync<PeerAuthenticationException>(async () => await serverTask);
        await serverStream.DisposeAsync();
        try
        {
            Assert.That(await clientTask, Is.Zero, "a refused client reads nothing");
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            // Refused during the handshake or on the first read: either way the client learns of it.
        }

        Assert.That(refusal!.Result.Status, Is.EqualTo(SvidValidationStatus.Untrusted));
    }

    [Test]
    public async Task A_server_with_an_unexpected_identity_is_refused_by_the_client()
    {
        using MeshCertificateAuthority ca = NewCa();
        MeshTlsFactory server = Factory(ca, ca.IssueLeaf(Api));
        MeshTlsFactory client = Factory(ca, ca.IssueLeaf(Web));
        (Socket a, Socket b) = await Pair();
        using var serverStream = new SslStream(new NetworkStream(a, ownsSocket: true));
        using var clientStream = new SslStream(new NetworkStream(b, ownsSocket: true));
        Task serverTask = server.AuthenticateAsServerAsync(serverStream, PeerAuthorizer.AnyValid, Timeout()).AsTask();
        var ex = Assert.ThrowsAsync<PeerAuthenticationException>(async () =>
            await client.AuthenticateAsClientAsync(clientStream, "web", PeerAuthorizer.Exact(Web), Timeout()));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Result.Status, Is.EqualTo(SvidValidationStatus.IdentityMismatch));
            Assert.That(ex.Result.PeerId, Is.EqualTo(Api));
        });

        // The server's handshake may have completed before the client checked the server's certificate; the abort then shows on its read.
        clientStream.Dispose();
        try
        {
            await serverTask;
            Assert.That(await serverStream.ReadAsync(new byte[1], Timeout()), Is.Zero);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
        }
    }

    [Test]
    public async Task Alpn_is_negotiated_and_a_rotated_leaf_serves_new_connections_while_open_ones_stay_up()
    {
        using MeshCertificateAuthority ca = NewCa();
        var leaves = new InMemoryLeafSource(ca.IssueLeaf(Api));
        var options = new MeshTlsOptions();
        options.ApplicationProtocols.Add(SslApplicationProtocol.Http2);
        var server = new MeshTlsFactory(leaves, new SvidValidator(ca.TrustBundleSource), options);
        MeshTlsFactory client = Factory(ca, ca.IssueLeaf(Web), options: options);

        (SslStream openServer, SslStream openClient) = await Connect(server, client);
        string firstSerial = openClient.RemoteCertificate!.GetSerialNumberString();
        Assert.That(openClient.NegotiatedApplicationProtocol, Is.EqualTo(SslApplicationProtocol.Http2));

        leaves.Set(ca.IssueLeaf(Api));
        (SslStream newServer, SslStream newClient) = await Connect(server, client);
        await openClient.WriteAsync("still"u8.ToArray(), Timeout());
        byte[] buffer = new byte[5];
        await openServer.ReadExactlyAsync(buffer, Timeout());
        Assert.Multiple(() =>
        {
            Assert.That(newClient.RemoteCertificate!.GetSerialNumberString(), Is.Not.EqualTo(firstSerial));
            Assert.That(Encoding.ASCII.GetString(buffer), Is.EqualTo("still"));
        });

        foreach (SslStream s in new[] { openServer, openClient, newServer, newClient })
        {
            await s.DisposeAsync();
        }
    }

    [Test]
    public async Task The_platforms_chain_is_checked_against_the_leafs_own_trust_domain_and_repeat_peers_hit_the_cache()
    {
        using MeshCertificateAuthority ca = NewCa();
        using var other = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = TrustDomain.Parse("other.consul"), SigningRateLimit = 0 });
        var both = new InMemoryTrustBundleSource(new TrustBundle(1, new Dictionary<TrustDomain, IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2>>
        {
            [ca.TrustDomain] = [ca.ActiveRoot.Certificate],
            [other.TrustDomain] = [other.ActiveRoot.Certificate],
        }));
        var validator = new SvidValidator(both);
        var server = new MeshTlsFactory(new InMemoryLeafSource(ca.IssueLeaf(Api)), validator);

        // A leaf claiming example.consul but signed by other.consul's root: the TLS policy holds both roots, so the platform's
        // chain builds; the validator must still refuse it (bundles are never pooled).
        var forged = Tests.Support.CraftedCertificates.Leaf(other.ActiveRoot, new Tests.Support.LeafSpec { Uris = [Web.Value] });
        var forgedLeaf = new LeafCertificate(forged, [], Web);
        MeshTlsFactory forger = Factory(ca, forgedLeaf);
        (Socket a, Socket b) = await Pair();
        using (var serverStream = new SslStream(new NetworkStream(a, ownsSocket: true)))
        using (var clientStream = new SslStream(new NetworkStream(b, ownsSocket: true)))
        {
            Task<SvidValidationResult> serverTask = server.AuthenticateAsServerAsync(serverStream, PeerAuthorizer.AnyValid, Timeout()).AsTask();
            Task clientTask = forger.AuthenticateAsClientAsync(clientStream, "api", PeerAuthorizer.AnyValid, Timeout()).AsTask();
            var refusal = Assert.ThrowsAsync<PeerAuthenticationException>(async () => await serverTask);
            Assert.That(refusal!.Result.Status, Is.EqualTo(SvidValidationStatus.Untrusted), refusal.Result.ToString());
            serverStream.Dispose();
            try
            {
                await clientTask;
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException)
            {
            }
        }

        MeshTlsFactory client = Factory(ca, ca.IssueLeaf(Web));
        List<SvidValidationResult> results = await HandshakesFromWebAsync(server, client, 2);

        Assert.Multiple(() =>
        {
            Assert.That(results[0].IsValid && !results[0].FromCache, Is.True, results[0].ToString());
            Assert.That(results[1].IsValid && results[1].FromCache, Is.True, "the second handshake of the same peer hits the cache");
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_repeat_caller_costs_no_second_path_validation_because_the_platform_is_given_no_anchors(bool intermediate)
    {
        using MeshCertificateAuthority ca = NewCa(intermediate);
        var validator = new SvidValidator(ca.TrustBundleSource);
        var server = new MeshTlsFactory(new InMemoryLeafSource(ca.IssueLeaf(Api)), validator);
        MeshTlsFactory client = Factory(ca, ca.IssueLeaf(Web));
        List<SvidValidationResult> results = await HandshakesFromWebAsync(server, client, 3);

        // SslStream builds the peer's chain with the given policy before it calls the validation callback, whether or not the
        // callback knows the certificate already: with the bundle's roots in that policy it would verify the leaf's signature on
        // every handshake. Without anchors (and without the system store) it verifies nothing, and the validator builds the path
        // once per certificate.
        System.Security.Cryptography.X509Certificates.X509ChainPolicy policy = server.CreateServerHandshake(PeerAuthorizer.AnyValid).ServerOptions!.CertificateChainPolicy!;
        Assert.Multiple(() =>
        {
            Assert.That(results.Select(r => r.IsValid), Is.All.True, string.Join("; ", results));
            Assert.That(results.Select(r => r.FromCache), Is.EqualTo(new[] { false, true, true }));
            Assert.That(validator.PathValidations, Is.EqualTo(1), "one path validation for three handshakes of the same caller");
            Assert.That(policy.TrustMode, Is.EqualTo(System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust));
            Assert.That(policy.CustomTrustStore, Is.Empty);
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_leaf_validated_directly_and_in_a_handshake_is_path_checked_once(bool intermediate)
    {
        using MeshCertificateAuthority ca = NewCa(intermediate);
        var validator = new SvidValidator(ca.TrustBundleSource);
        var server = new MeshTlsFactory(new InMemoryLeafSource(ca.IssueLeaf(Api)), validator);
        LeafCertificate web = ca.IssueLeaf(Web);

        // Validate and the TLS callback are two doors to one validation: what one has checked, the other serves from the cache.
        SvidValidationResult direct = validator.Validate(web.Certificate, web.Intermediates);
        List<SvidValidationResult> handshakes = await HandshakesFromWebAsync(server, Factory(ca, web), 1);
        SvidValidationResult again = validator.Validate(web.Certificate, web.Intermediates);

        Assert.Multiple(() =>
        {
            Assert.That(direct.IsValid && !direct.FromCache, Is.True, direct.ToString());
            Assert.That(handshakes[0].IsValid && handshakes[0].FromCache, Is.True, handshakes[0].ToString());
            Assert.That(again.IsValid && again.FromCache, Is.True, again.ToString());
            Assert.That(validator.PathValidations, Is.EqualTo(1));
        });
    }

    private static async Task<(SslStream Server, SslStream Client)> Connect(MeshTlsFactory server, MeshTlsFactory client)
    {
        (Socket a, Socket b) = await Pair();
        var serverStream = new SslStream(new NetworkStream(a, ownsSocket: true));
        var clientStream = new SslStream(new NetworkStream(b, ownsSocket: true));
        Task serverTask = server.AuthenticateAsServerAsync(serverStream, PeerAuthorizer.AnyValid, Timeout()).AsTask();
        await client.AuthenticateAsClientAsync(clientStream, "api", PeerAuthorizer.AnyValid, Timeout());
        await serverTask;
        return (serverStream, clientStream);
    }

    internal static async Task<(Socket Server, Socket Client)> Pair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Task<Socket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        return (await accept, client);
    }

    internal static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    // Web's client calls Api's server `count` times over fresh connections; the server's validation result of each.
    private static async Task<List<SvidValidationResult>> HandshakesFromWebAsync(MeshTlsFactory server, MeshTlsFactory client, int count)
    {
        var results = new List<SvidValidationResult>(count);
        for (int i = 0; i < count; i++)
        {
            (Socket s1, Socket s2) = await Pair();
            using var serverStream = new SslStream(new NetworkStream(s1, ownsSocket: true));
            using var clientStream = new SslStream(new NetworkStream(s2, ownsSocket: true));
            Task<SvidValidationResult> serverTask = server.AuthenticateAsServerAsync(serverStream, PeerAuthorizer.Exact(Web), Timeout()).AsTask();
            await client.AuthenticateAsClientAsync(clientStream, "api", PeerAuthorizer.Exact(Api), Timeout());
            results.Add(await serverTask);
        }

        return results;
    }
}
