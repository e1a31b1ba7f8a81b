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
using Mesh.Sni.Tests.Support;

namespace Mesh.Sni.Tests.Gateway;

/// <summary>
/// The gateway over real sockets: real TLS clients (SslStream) whose ClientHello it routes, real TLS servers behind it that
/// it never terminates. Every test runs on both of the gateway's engines: its own epoll loop (Linux) and the socket engine
/// (other systems, or a splice clock other than the system's, which is how the second run here reaches it).
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
public sealed partial class MeshGatewayTests(bool socketEngine)
{
    private static readonly TrustDomain Td = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");
    private static readonly ServiceName Counting = new("counting");

    // Every backend serves this certificate and clients accept only it: what a client sees is the backend's, never the gateway's.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("NUnit", "NUnit1032", Justification = "Shared by both fixtures: GatewayCertificateTeardown disposes it once both have run.")]
    private static readonly X509Certificate2 BackendCertificate = CreateBackendCertificate();

    // Disposed once both fixtures are done (GatewayCertificateTeardown): a fixture's own teardown would pull it from the other.
    internal static void DisposeCertificate() => BackendCertificate.Dispose();

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

    [Test]
    public async Task Both_directions_stream_while_neither_reader_keeps_up_and_a_half_close_goes_through()
    {
        // Raw TCP behind the gateway: after the hello it forwards bytes, so both ends can push 8 MB at once, start reading
        // late (each direction fills up and must hold back its source), and end their sending side while the other keeps going.
        const int Size = 8 * 1024 * 1024;
        byte[] hello = HelloBuilder.Records(HelloBuilder.Handshake(HelloBuilder.TypicalBody("counting.default.dc2.internal." + Td.Name)));
        byte[] up = RandomNumberGenerator.GetBytes(Size);
        byte[] down = RandomNumberGenerator.GetBytes(Size);
        using var backendListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        backendListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        backendListener.Listen();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", (IPEndPoint)backendListener.LocalEndPoint!)], []);
        await using MeshGateway gateway = await StartGateway("dc2", catalog);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(gateway.LocalEndPoints[0]);
        Task clientSends = Task.Run(async () =>
        {
            await client.SendAsync(hello);
            await client.SendAsync(up);
            client.Shutdown(SocketShutdown.Send);
        });
        using Socket backend = await backendListener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Task backendSends = Task.Run(async () =>
        {
            await backend.SendAsync(down);
            backend.Shutdown(SocketShutdown.Send);
        });
        await Task.Delay(300);
        Task<byte[]> backendReads = ReadToEndAsync(backend);
        Task<byte[]> clientReads = ReadToEndAsync(client);

        byte[] atBackend = await backendReads.WaitAsync(TimeSpan.FromSeconds(30));
        byte[] atClient = await clientReads.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.WhenAll(clientSends, backendSends).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(atBackend.AsSpan(0, hello.Length).SequenceEqual(hello), Is.True, "the hello is replayed first, unchanged");
            Assert.That(SHA256.HashData(atBackend.AsSpan(hello.Length)), Is.EqualTo(SHA256.HashData(up)), "every byte after the hello, in order");
            Assert.That(SHA256.HashData(atClient), Is.EqualTo(SHA256.HashData(down)), "every byte back, in order, then the backend's FIN");
        });
    }

    [Test]
    public async Task A_splice_idle_past_its_timeout_is_reset_on_both_sides()
    {
        byte[] hello = HelloBuilder.Records(HelloBuilder.Handshake(HelloBuilder.TypicalBody("counting.default.dc2.internal." + Td.Name)));
        using var backendListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        backendListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        backendListener.Listen();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", (IPEndPoint)backendListener.LocalEndPoint!)], []);
        var options = Options("dc2", IPAddress.Loopback);
        options.Splice = new Mesh.Splicing.SpliceOptions { IdleTimeout = TimeSpan.FromMilliseconds(300), TimeProvider = options.Splice.TimeProvider };
        await using var gateway = new MeshGateway(options, catalog);
        await gateway.StartAsync();

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(gateway.LocalEndPoints[0]);
        await client.SendAsync(hello);
        using Socket backend = await backendListener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(10));
        byte[] replayed = new byte[hello.Length];
        for (int read = 0; read < replayed.Length;)
        {
            read += await backend.ReceiveAsync(replayed.AsMemory(read));
        }

        Assert.That(gateway.ActiveConnections, Is.EqualTo(1));

        SocketException? atClient = await ResetOf(client);
        SocketException? atBackend = await ResetOf(backend);

        Assert.Multiple(() =>
        {
            Assert.That(atClient?.SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset), "the client sees a reset, not a clean end");
            Assert.That(atBackend?.SocketErrorCode, Is.EqualTo(SocketError.ConnectionReset), "so does the backend");
            Assert.That(() => gateway.ActiveConnections, Is.Zero.After(5000, 20), "the gateway let the connection go");
        });
    }

    [Test]
    public async Task Connections_that_end_every_way_leave_no_descriptor_behind()
    {
        Assume.That(Directory.Exists("/proc/self/fd"), "counts the process's open descriptors through /proc");
        await using var backend = await TlsEchoServer.StartAsync();
        var catalog = new InMemoryServiceCatalog([Endpoint(Counting, "dc2", backend.EndPoint)], []);
        await using MeshGateway gateway = await StartGateway("dc2", catalog);
        IPEndPoint address = gateway.LocalEndPoints[0];
        string sni = "counting.default.dc2.internal." + Td.Name;
        await TlsCallAsync(address, sni, "warm-up");
        int before = Directory.GetFiles("/proc/self/fd").Length;

        for (int i = 0; i < 50; i++)
        {
            Assert.That(await TlsCallAsync(address, sni, "call " + i), Is.EqualTo("echo:call " + i));
            using var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await plain.ConnectAsync(address);
            await plain.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
            Assert.That(await ReadOrReset(plain, new byte[16]), Is.Zero, "not TLS: closed");
            using var unknown = new TcpClient();
            await unknown.ConnectAsync(address);
            await using var tls = new SslStream(unknown.GetStream(), false, IsBackendCertificate);
            Assert.That(async () => await tls.AuthenticateAsClientAsync("nobody.default.dc2.internal." + Td.Name), Throws.Exception, "no route: closed");
            using var abandoned = new TcpClient();
            await abandoned.ConnectAsync(address);
            await abandoned.GetStream().WriteAsync(HelloBuilder.Records(HelloBuilder.Handshake(HelloBuilder.TypicalBody(sni))));
            abandoned.Client.LingerState = new LingerOption(true, 0); // a client that resets mid-handshake
        }

        Assert.That(() => gateway.ActiveConnections, Is.Zero.After(5000, 20));
        int after = Directory.GetFiles("/proc/self/fd").Length;
        Assert.That(after, Is.LessThanOrEqualTo(before + 8), "200 connections later, no more descriptors open than before them (a few for the runtime's own use)");
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task The_loop_thread_runs_under_batch_scheduling_unless_it_is_turned_off(bool batch)
    {
        Assume.That(!socketEngine && OperatingSystem.IsLinux(), "the scheduling policy of the gateway's own loop thread (Linux)");
        var catalog = new InMemoryServiceCatalog([], []);
        HashSet<string> threadsBefore = [.. LoopThreadIds()];
        MeshGatewayOptions options = Options("dc2", IPAddress.Loopback);
        options.BatchScheduling = batch;
        await using var gateway = new MeshGateway(options, catalog);
        await gateway.StartAsync();

        // One connection handled (not TLS: closed) shows the loop is past the point where it sets its policy.
        using var plain = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await plain.ConnectAsync(gateway.LocalEndPoints[0]);
        await plain.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        Assert.That(await ReadOrReset(plain, new byte[16]).WaitAsync(TimeSpan.FromSeconds(10)), Is.Zero, "not TLS: closed");

        string[] started = [.. LoopThreadIds().Where(id => !threadsBefore.Contains(id))];
        Assert.That(started, Has.Length.EqualTo(1), "one loop thread per gateway");
        const int SchedOther = 0, SchedBatch = 3;
        Assert.That(SchedulingPolicy(started[0]), Is.EqualTo(batch ? SchedBatch : SchedOther), "the policy `chrt -p` shows for the thread");
    }

    // The loop threads of this process, by the name the gateway gives them (the kernel keeps its first 15 characters).
    private static IEnumerable<string> LoopThreadIds() =>
        Directory.GetDirectories("/proc/self/task")
            .Where(task => File.ReadAllText(Path.Combine(task, "comm")).StartsWith("Mesh gateway", StringComparison.Ordinal))
            .Select(Path.GetFileName)!;

    // Field 41 of /proc/<pid>/task/<tid>/stat; the fields are counted from the one after the name in parentheses (field 3).
    private static int SchedulingPolicy(string threadId)
    {
        string stat = File.ReadAllText($"/proc/self/task/{threadId}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[41 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task<MeshGateway> StartGateway(string datacenter, IServiceCatalog catalog, IPAddress? address = null)
    {
        var gateway = new MeshGateway(Options(datacenter, address ?? IPAddress.Loopback), catalog);
        await gateway.StartAsync();
        return gateway;
    }

    private MeshGatewayOptions Options(string datacenter, IPAddress address)
    {
        var options = new MeshGatewayOptions { Datacenter = datacenter, TrustDomain = Td, ConnectTimeout = TimeSpan.FromSeconds(2) };
        if (socketEngine)
        {
            options.Splice = new Mesh.Splicing.SpliceOptions { TimeProvider = new SystemClockOfItsOwn() };
        }

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

    /// <summary>The system's clock, but not <see cref="TimeProvider.System"/> itself: the gateway then runs on the socket engine.</summary>
    private sealed class SystemClockOfItsOwn : TimeProvider;

    private static bool IsBackendCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null && certificate.GetCertHashString() == BackendCertificate.GetCertHashString();

    private static X509Certificate2 CreateBackendCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=backend", key, HashAlgorithmName.SHA256);
        using X509Certificate2 ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    private static async Task<byte[]> ReadToEndAsync(Socket socket)
    {
        using var received = new MemoryStream();
        byte[] buffer = new byte[64 * 1024];
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            received.Write(buffer, 0, read);
        }

        return received.ToArray();
    }

    // Reads until the socket fails; an idle splice sends nothing, so the first answer is the reset (or a wrong clean end).
    private static async Task<SocketException?> ResetOf(Socket socket)
    {
        try
        {
            await socket.ReceiveAsync(new byte[16]).WaitAsync(TimeSpan.FromSeconds(10));
            return null;
        }
        catch (SocketException e)
        {
            return e;
        }
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

        public static Task<TlsEchoServer> StartAsync(IPAddress? address = null, int port = 0)
        {
            address ??= IPAddress.Loopback;
            var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(address, port));
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
