using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Sni.Gateway;

namespace Mesh.Sni.Tests.Gateway;

/// <summary>
/// The gateway over real sockets: real TLS clients (SslStream) whose ClientHello it routes, real TLS servers behind it that
/// it never terminates.
/// </summary>
public sealed class MeshGatewayTests
{
    private static readonly TrustDomain Td = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");
    private static readonly ServiceName Counting = new("counting");

    // Every backend serves this certificate and clients accept only it: what a client sees is the backend's, never the gateway's.
    private static readonly X509Certificate2 BackendCertificate = CreateBackendCertificate();

    [OneTimeTearDown]
    public static void DisposeCertificate() => BackendCertificate.Dispose();

    [Test]
    public async Task Exact_sni_of_a_local_service_reaches_its_endpoint_end_to_end_encrypted()
    {
        await using var backend = await TlsEchoServer.StartAsync();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", backend.EndPoint)], []);
        await using MeshGateway gateway = await StartGateway("dc2", catalog);

        string reply = await TlsCallAsync(gateway.LocalEndPoints[0], "counting.default.dc2.internal." + Td.Name, "hello");

        Assert.Multiple(() =>
        {
            Assert.That(reply, Is.EqualTo("echo:hello"));
            Assert.That(backend.LastServerName, Is.EqualTo("counting.default.dc2.internal." + Td.Name), "the ClientHello reached the backend unchanged");
        });
    }

    [Test]
    public async Task Subset_sni_reaches_only_the_endpoints_of_that_subset()
    {
        await using var v1 = await TlsEchoServer.StartAsync();
        await using var v2 = await TlsEchoServer.StartAsync();
        var catalog = new InMemoryServiceCatalog([
            new ServiceEndpoint(new ServiceIdentity(Counting, "dc2"), v1.EndPoint, new Dictionary<string, string> { ["subset"] = "v1" }),
            new ServiceEndpoint(new ServiceIdentity(Counting, "dc2"), v2.EndPoint, new Dictionary<string, string> { ["subset"] = "v2" }),
        ], []);
        await using MeshGateway gateway = await StartGateway("dc2", catalog);
        string service = "counting.default.dc2.internal." + Td.Name;

        for (int i = 0; i < 3; i++)
        {
            Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], "v2." + service, "to-v2"), Is.EqualTo("echo:to-v2"));
        }

        Assert.Multiple(() =>
        {
            Assert.That(v2.Accepted, Is.EqualTo(3), "every v2 connection went to the v2 endpoint");
            Assert.That(v1.Accepted, Is.Zero);
            Assert.That(v2.LastServerName, Is.EqualTo("v2." + service));
        });

        Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], "v1." + service, "to-v1"), Is.EqualTo("echo:to-v1"));
        Assert.That(v1.Accepted, Is.EqualTo(1));
        Assert.That(async () => await TlsCallAsync(gateway.LocalEndPoints[0], "v3." + service, "x"), Throws.Exception, "a subset no endpoint names has no chain");

        // The service's own name still reaches any of its endpoints.
        Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], service, "any"), Is.EqualTo("echo:any"));
        Assert.That(v1.Accepted + v2.Accepted, Is.EqualTo(5));
    }

    [Test]
    public async Task Wildcard_of_a_remote_datacenter_goes_to_its_gateway_wan_address()
    {
        await using var remoteGatewayStandIn = await TlsEchoServer.StartAsync();
        var catalog = new InMemoryServiceCatalog([], [
            new MeshGatewayEndpoint("dc1", new IPEndPoint(IPAddress.Loopback, 1), new IPEndPoint(IPAddress.Loopback, 2)),
            new MeshGatewayEndpoint("dc2", new IPEndPoint(IPAddress.Loopback, 3), remoteGatewayStandIn.EndPoint),
        ]);
        await using MeshGateway gateway = await StartGateway("dc1", catalog);

        string reply = await TlsCallAsync(gateway.LocalEndPoints[0], "anything.default.dc2.internal." + Td.Name, "x");

        Assert.That(reply, Is.EqualTo("echo:x"));
    }

    [Test]
    public async Task Sni_matching_no_route_is_closed_without_reaching_anyone()
    {
        await using var backend = await TlsEchoServer.StartAsync();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", backend.EndPoint)], []);
        await using MeshGateway gateway = await StartGateway("dc2", catalog);

        Assert.That(async () => await TlsCallAsync(gateway.LocalEndPoints[0], "unknown.default.dc2.internal." + Td.Name, "x"),
            Throws.InstanceOf<IOException>().Or.InstanceOf<AuthenticationException>());
        Assert.That(backend.Accepted, Is.Zero);
    }

    [Test]
    public async Task Non_tls_bytes_are_closed()
    {
        var catalog = new InMemoryServiceCatalog();
        await using MeshGateway gateway = await StartGateway("dc2", catalog);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(gateway.LocalEndPoints[0]);
        await client.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));

        var buffer = new byte[16];
        int read = await ReadOrReset(client, buffer);
        Assert.That(read, Is.Zero, "the gateway closes the connection and sends nothing");
    }

    [Test]
    public async Task A_dead_endpoint_is_skipped_for_the_next_one()
    {
        await using var backend = await TlsEchoServer.StartAsync();
        IPEndPoint dead = UnusedLoopbackEndPoint();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", dead), Endpoint(Counting, "dc2", backend.EndPoint)], []);
        await using MeshGateway gateway = await StartGateway("dc2", catalog);

        for (int i = 0; i < 3; i++)
        {
            Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], "counting.default.dc2.internal." + Td.Name, "r" + i), Is.EqualTo("echo:r" + i));
        }

        Assert.That(backend.Accepted, Is.EqualTo(3));
    }

    [Test]
    public async Task Routes_follow_catalog_changes_without_a_restart()
    {
        await using var backend = await TlsEchoServer.StartAsync();
        var catalog = new InMemoryServiceCatalog();
        await using MeshGateway gateway = await StartGateway("dc2", catalog);
        string sni = "counting.default.dc2.internal." + Td.Name;
        Assert.That(async () => await TlsCallAsync(gateway.LocalEndPoints[0], sni, "x"), Throws.Exception);

        catalog.Replace([Endpoint(Counting, "dc2", backend.EndPoint)], []);

        Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], sni, "y"), Is.EqualTo("echo:y"));
    }

    [Test]
    public async Task Works_over_ipv6()
    {
        await using var backend = await TlsEchoServer.StartAsync(IPAddress.IPv6Loopback);
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", backend.EndPoint)], []);
        await using MeshGateway gateway = await StartGateway("dc2", catalog, IPAddress.IPv6Loopback);

        Assert.That(await TlsCallAsync(gateway.LocalEndPoints[0], "counting.default.dc2.internal." + Td.Name, "six"), Is.EqualTo("echo:six"));
    }

    [Test]
    public async Task A_client_that_never_finishes_its_hello_is_closed_after_the_timeout()
    {
        var catalog = new InMemoryServiceCatalog();
        var options = Options("dc2", IPAddress.Loopback);
        options.ClientHelloTimeout = TimeSpan.FromMilliseconds(300);
        await using var gateway = new MeshGateway(options, catalog);
        await gateway.StartAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(gateway.LocalEndPoints[0]);
        await client.SendAsync(new byte[] { 0x16, 0x03, 0x01, 0x01, 0x00 }); // a record header promising 256 bytes that never come

        int read = await ReadOrReset(client, new byte[8]).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(read, Is.Zero);
    }

    [Test]
    public async Task Stop_drains_open_connections_then_resets_what_is_left()
    {
        await using var backend = await TlsEchoServer.StartAsync();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", backend.EndPoint)], []);
        MeshGateway gateway = await StartGateway("dc2", catalog);
        IPEndPoint address = gateway.LocalEndPoints[0];
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address);
        await using var tls = new SslStream(tcp.GetStream(), false, IsBackendCertificate);
        await tls.AuthenticateAsClientAsync("counting.default.dc2.internal." + Td.Name);
        Assert.That(gateway.ActiveConnections, Is.EqualTo(1));

        using var shortDrain = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await gateway.StopAsync(shortDrain.Token);

        Assert.That(async () => await TlsCallAsync(address, "counting.default.dc2.internal." + Td.Name, "late"), Throws.Exception, "no longer accepting");
        Assert.That(await ReadAfterStop(tls), Is.Zero, "the connection left open after the drain is ended");
        await gateway.DisposeAsync();
    }

    private static async Task<MeshGateway> StartGateway(string datacenter, IServiceCatalog catalog, IPAddress? address = null)
    {
        var gateway = new MeshGateway(Options(datacenter, address ?? IPAddress.Loopback), catalog);
        await gateway.StartAsync();
        return gateway;
    }

    private static MeshGatewayOptions Options(string datacenter, IPAddress address)
    {
        var options = new MeshGatewayOptions { Datacenter = datacenter, TrustDomain = Td, ConnectTimeout = TimeSpan.FromSeconds(2) };
        options.ListenEndPoints.Add(new IPEndPoint(address, 0));
        return options;
    }

    private static ServiceEndpoint Endpoint(ServiceName service, string dc, IPEndPoint address) => new(new ServiceIdentity(service, dc), address);

    private static IPEndPoint UnusedLoopbackEndPoint()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)probe.LocalEndPoint!; // nothing listens once the probe is disposed
    }

    private static async Task<int> ReadAfterStop(SslStream tls)
    {
        try
        {
            await tls.WriteAsync("x"u8.ToArray());
            return await tls.ReadAsync(new byte[8]);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static bool IsBackendCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null && certificate.GetCertHashString() == BackendCertificate.GetCertHashString();

    private static X509Certificate2 CreateBackendCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=backend", key, HashAlgorithmName.SHA256);
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    private static async Task<int> ReadOrReset(Socket socket, byte[] buffer)
    {
        try
        {
            return await socket.ReceiveAsync(buffer);
        }
        catch (SocketException)
        {
            return 0;
        }
    }

    private static async Task<string> TlsCallAsync(IPEndPoint gateway, string sni, string message)
    {
        using var tcp = new TcpClient(gateway.AddressFamily);
        await tcp.ConnectAsync(gateway);
        await using var tls = new SslStream(tcp.GetStream(), false, IsBackendCertificate);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = sni }, timeout.Token);
        await tls.WriteAsync(Encoding.ASCII.GetBytes(message), timeout.Token);
        await tls.ShutdownAsync();
        using var reader = new StreamReader(tls, Encoding.ASCII);
        return await reader.ReadToEndAsync(timeout.Token);
    }

    /// <summary>A TLS server that answers "echo:" and what it read, then closes; it records the SNI it was asked for.</summary>
    private sealed class TlsEchoServer : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly X509Certificate2 _certificate;
        private readonly Task _loop;
        private int _accepted;

        private TlsEchoServer(Socket listener, X509Certificate2 certificate)
        {
            _listener = listener;
            _certificate = certificate;
            _loop = Task.Run(AcceptLoop);
        }

        public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndPoint!;

        public int Accepted => Volatile.Read(ref _accepted);

        public string? LastServerName { get; private set; }

        public static Task<TlsEchoServer> StartAsync(IPAddress? address = null)
        {
            address ??= IPAddress.Loopback;
            var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(address, 0));
            listener.Listen();
            return Task.FromResult(new TlsEchoServer(listener, BackendCertificate));
        }

        private async Task AcceptLoop()
        {
            while (true)
            {
                Socket socket;
                try
                {
                    socket = await _listener.AcceptAsync();
                }
                catch (Exception)
                {
                    return;
                }

                Interlocked.Increment(ref _accepted);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
                        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                        {
                            ServerCertificateSelectionCallback = (_, name) =>
                            {
                                LastServerName = name;
                                return _certificate;
                            },
                        });
                        using var reader = new StreamReader(tls, Encoding.ASCII, leaveOpen: true);
                        string text = await reader.ReadToEndAsync();
                        await tls.WriteAsync(Encoding.ASCII.GetBytes("echo:" + text));
                        await tls.ShutdownAsync();
                    }
                    catch (Exception)
                    {
                    }
                });
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Dispose();
            await _loop;
        }
    }
}
