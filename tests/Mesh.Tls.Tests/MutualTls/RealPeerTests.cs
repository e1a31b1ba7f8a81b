using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mesh.ControlPlane;
using Mesh.Tls.Authority;
using Mesh.Tls.MutualTls;
using Mesh.Tls.Tests.Support;
using Mesh.Tls.Validation;

namespace Mesh.Tls.Tests.MutualTls;

/// <summary>
/// Mutual TLS between Mesh and the real peers Debian ships (openssl, gnutls), in both directions, with the mesh CA's certificates,
/// and refusals with a certificate from another CA. Fixed ports below 32768 (the tools cannot report an ephemeral one), retried on bind failure.
/// </summary>
[NonParallelizable]
public sealed class RealPeerTests
{
    private static readonly IPAddress[] LoopbackIp = [IPAddress.Loopback];
    private string _dir = string.Empty;
    private MeshCertificateAuthority _ca = null!;
    private MeshCertificateAuthority _rogue = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _dir = Tools.TempDirectory();
        _ca = MeshTlsFactoryTests.NewCa(intermediate: true);
        _rogue = MeshTlsFactoryTests.NewCa();
        File.WriteAllText(Path.Combine(_dir, "root.pem"), _ca.ActiveRoot.ToPem());
        File.WriteAllText(Path.Combine(_dir, "rogue-root.pem"), _rogue.ActiveRoot.ToPem());
        WriteLeaf("peer", _ca.IssueLeaf(MeshTlsFactoryTests.Web, ["localhost"], LoopbackIp));
        WriteLeaf("rogue", _rogue.IssueLeaf(MeshTlsFactoryTests.Web, ["localhost"], LoopbackIp));
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _ca.Dispose();
        _rogue.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Test]
    public async Task Openssl_s_client_completes_mutual_tls_with_a_mesh_server_and_is_refused_with_another_cas_certificate()
    {
        Assume.That(Tools.Exists("openssl"), "openssl is installed in CI");
        foreach ((string leaf, bool accepted) in new[] { ("peer", true), ("rogue", false) })
        {
            // s_client sends only the first certificate of -cert; intermediates go in -cert_chain (the other CA has none).
            string[] chain = Leaves[leaf].Intermediates.Count > 0 ? ["-cert_chain", P($"{leaf}-chain.pem")] : [];
            (SvidValidationResult? result, Exception? error, string output) = await ServeOnce(port => Tools.RunAsync("openssl",
                ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "api.default.dc1.internal.example.consul",
                "-cert", P($"{leaf}.pem"), "-key", P($"{leaf}.key"), .. chain, "-CAfile", P("root.pem"), "-verify_return_error", "-ign_eof"]));
            if (accepted)
            {
                Assert.Multiple(() =>
                {
                    Assert.That(error, Is.Null, output);
                    Assert.That(result!.Value.PeerId, Is.EqualTo(MeshTlsFactoryTests.Web));
                    Assert.That(output, Does.Contain("mesh-hello").And.Contain("Verify return code: 0 (ok)"));
                });
            }
            else
            {
                Assert.That(error, Is.TypeOf<PeerAuthenticationException>(), output);
                Assert.That(((PeerAuthenticationException)error!).Result.Status, Is.EqualTo(SvidValidationStatus.Untrusted));
                Assert.That(output, Does.Not.Contain("mesh-hello"));
            }
        }
    }

    [Test]
    public async Task Openssl_s_client_sending_a_copy_of_the_root_after_its_chain_is_accepted_and_a_rogue_root_does_not_help()
    {
        Assume.That(Tools.Exists("openssl"), "openssl is installed in CI");

        // OpenSSL's clients send the root they chained to unless told otherwise (s_time, s_client without -cert_chain). The
        // platform is given no anchor, so its chain ends at that untrusted copy: the validator must build the path to the
        // bundle's root itself, and a root the bundle does not hold must still be refused.
        File.WriteAllText(P("peer-chain-root.pem"), File.ReadAllText(P("peer-chain.pem")) + File.ReadAllText(P("root.pem")));
        File.WriteAllText(P("rogue-chain-root.pem"), File.ReadAllText(P("rogue-root.pem")));
        foreach ((string leaf, bool accepted) in new[] { ("peer", true), ("rogue", false) })
        {
            (SvidValidationResult? result, Exception? error, string output) = await ServeOnce(port => Tools.RunAsync("openssl",
                ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "api.default.dc1.internal.example.consul",
                "-cert", P($"{leaf}.pem"), "-key", P($"{leaf}.key"), "-cert_chain", P($"{leaf}-chain-root.pem"), "-CAfile", P("root.pem"),
                "-verify_return_error", "-ign_eof"]));
            if (accepted)
            {
                Assert.Multiple(() =>
                {
                    Assert.That(error, Is.Null, output);
                    Assert.That(result!.Value.PeerId, Is.EqualTo(MeshTlsFactoryTests.Web));
                    Assert.That(output, Does.Contain("mesh-hello"));
                });
            }
            else
            {
                Assert.That(error, Is.TypeOf<PeerAuthenticationException>(), output);
                Assert.That(((PeerAuthenticationException)error!).Result.Status, Is.EqualTo(SvidValidationStatus.Untrusted));
            }
        }
    }

    [Test]
    public async Task Gnutls_cli_completes_mutual_tls_with_a_mesh_server_and_is_refused_with_another_cas_certificate()
    {
        Assume.That(Tools.Exists("gnutls-cli"), "gnutls-bin is installed in CI");
        foreach ((string leaf, bool accepted) in new[] { ("peer", true), ("rogue", false) })
        {
            (SvidValidationResult? result, Exception? error, string output) = await ServeOnce(port => Tools.RunAsync("gnutls-cli",
                "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1",
                "--x509cafile", P("root.pem"), "--x509certfile", P($"{leaf}-full.pem"), "--x509keyfile", P($"{leaf}.key")));
            if (accepted)
            {
                Assert.Multiple(() =>
                {
                    Assert.That(error, Is.Null, output);
                    Assert.That(result!.Value.PeerId, Is.EqualTo(MeshTlsFactoryTests.Web));
                    Assert.That(output, Does.Contain("Handshake was completed"));
                });
            }
            else
            {
                Assert.That(error, Is.TypeOf<PeerAuthenticationException>(), output);
                Assert.That(((PeerAuthenticationException)error!).Result.Status, Is.EqualTo(SvidValidationStatus.Untrusted));
            }
        }
    }

    [Test]
    public async Task A_mesh_client_completes_mutual_tls_with_openssl_s_server_and_fails_with_another_cas_certificate()
    {
        Assume.That(Tools.Exists("openssl"), "openssl is installed in CI");
        await WithServer(port => ["openssl", "s_server", "-accept", port, "-cert", P("peer.pem"), "-key", P("peer.key"), "-cert_chain", P("peer-chain.pem"),
            "-CAfile", P("root.pem"), "-Verify", "1", "-verify_return_error", "-rev"], async port =>
        {
            string reply = await Dial(port, "peer", PeerAuthorizer.Exact(MeshTlsFactoryTests.Web), "mesh\n");
            Assert.That(reply, Is.EqualTo("hsem"));
            Assert.That(await RefusedByServer(port), Is.True, "openssl s_server refuses a client of another CA");
        });

        // The other way round: a server with another CA's certificate is refused by the mesh client.
        await WithServer(port => ["openssl", "s_server", "-accept", port, "-cert", P("rogue.pem"), "-key", P("rogue.key"), "-rev"], async port =>
        {
            var ex = Assert.ThrowsAsync<PeerAuthenticationException>(async () => await Dial(port, "peer", PeerAuthorizer.AnyValid, "x\n"));
            Assert.That(ex!.Result.Status, Is.EqualTo(SvidValidationStatus.Untrusted));
        });
    }

    [Test]
    public async Task A_mesh_client_completes_mutual_tls_with_gnutls_serv_and_fails_with_another_cas_certificate()
    {
        Assume.That(Tools.Exists("gnutls-serv"), "gnutls-bin is installed in CI");
        await WithServer(port => ["gnutls-serv", "-p", port, "--echo", "--x509cafile", P("root.pem"), "--x509certfile", P("peer-full.pem"),
            "--x509keyfile", P("peer.key"), "--require-client-cert", "--verify-client-cert"], async port =>
        {
            string reply = await Dial(port, "peer", PeerAuthorizer.Exact(MeshTlsFactoryTests.Web), "mesh\n");
            Assert.That(reply, Is.EqualTo("mesh"));
            Assert.That(await RefusedByServer(port), Is.True, "gnutls-serv refuses a client of another CA");
        });

        await WithServer(port => ["gnutls-serv", "-p", port, "--echo", "--x509certfile", P("rogue-full.pem"), "--x509keyfile", P("rogue.key")], async port =>
        {
            var ex = Assert.ThrowsAsync<PeerAuthenticationException>(async () => await Dial(port, "peer", PeerAuthorizer.AnyValid, "x\n"));
            Assert.That(ex!.Result.Status, Is.EqualTo(SvidValidationStatus.Untrusted));
        });
    }

    private string P(string name) => Path.Combine(_dir, name);

    private void WriteLeaf(string name, LeafCertificate leaf)
    {
        using ECDsa key = leaf.Certificate.GetECDsaPrivateKey()!;
        File.WriteAllText(P($"{name}.key"), MeshPem.WritePkcs8PrivateKey(key));
        File.WriteAllText(P($"{name}.pem"), MeshPem.WriteCertificates([leaf.Certificate]));
        File.WriteAllText(P($"{name}-chain.pem"), MeshPem.WriteCertificates(leaf.Intermediates));
        File.WriteAllText(P($"{name}-full.pem"), MeshPem.WriteCertificates([leaf.Certificate, .. leaf.Intermediates]));
        Leaves[name] = leaf;
    }

    private Dictionary<string, LeafCertificate> Leaves { get; } = [];

    /// <summary>Runs a mesh server for one connection while a tool connects to it.</summary>
    private async Task<(SvidValidationResult? Result, Exception? Error, string Output)> ServeOnce(Func<int, Task<(int, string)>> runClient)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        MeshTlsFactory server = new(new InMemoryLeafSource(_ca.IssueLeaf(MeshTlsFactoryTests.Api, ["localhost"], LoopbackIp)), new SvidValidator(_ca.TrustBundleSource));
        Task<(int, string)> client = runClient(port);
        Task<Socket> accept = listener.AcceptAsync(MeshTlsFactoryTests.Timeout()).AsTask();
        if (await Task.WhenAny(accept, client) == client)
        {
            Assert.Fail($"The client exited without connecting: {(await client).Item2}");
        }

        using Socket accepted = await accept;
        await using var stream = new SslStream(new NetworkStream(accepted, ownsSocket: false));
        SvidValidationResult? result = null;
        Exception? error = null;
        try
        {
            result = await server.AuthenticateAsServerAsync(stream, PeerAuthorizer.AnyValid, MeshTlsFactoryTests.Timeout());
            await stream.WriteAsync("mesh-hello\n"u8.ToArray(), MeshTlsFactoryTests.Timeout());
            await stream.ShutdownAsync();
        }
        catch (AuthenticationException ex)
        {
            error = ex;
        }

        accepted.Shutdown(SocketShutdown.Both);
        accepted.Close();
        (_, string output) = await client;
        return (result, error, output);
    }

    private async Task<string> Dial(int port, string leafName, PeerAuthorizer authorizer, string message)
    {
        MeshTlsFactory client = new(new InMemoryLeafSource(Leaves[leafName]), new SvidValidator(_ca.TrustBundleSource));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), MeshTlsFactoryTests.Timeout());
        await using var stream = new SslStream(new NetworkStream(socket, ownsSocket: false));
        await client.AuthenticateAsClientAsync(stream, "localhost", authorizer, MeshTlsFactoryTests.Timeout());
        await stream.WriteAsync(Encoding.ASCII.GetBytes(message), MeshTlsFactoryTests.Timeout());
        var reply = new StringBuilder();
        byte[] buffer = new byte[256];
        while (!reply.ToString().Contains('\n', StringComparison.Ordinal))
        {
            int read = await stream.ReadAsync(buffer, MeshTlsFactoryTests.Timeout());
            if (read == 0)
            {
                break;
            }

            reply.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return reply.ToString().Trim();
    }

    /// <summary>Dials with the other CA's leaf; the server refuses it during the handshake or, in TLS 1.3, on the first read.</summary>
    private async Task<bool> RefusedByServer(int port)
    {
        try
        {
            string reply = await Dial(port, "rogue", PeerAuthorizer.AnyValid, "mesh\n");
            return reply.Length == 0;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            return true;
        }
    }

    /// <summary>Starts a tool as a server on a fixed port (retrying another port when it cannot bind), runs the body, then stops it.</summary>
    private static async Task WithServer(Func<string, string[]> command, Func<int, Task> body)
    {
        for (int attempt = 0; attempt < 10; attempt++)
        {
            int port = Random.Shared.Next(20_000, 32_000);
            string[] args = command(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var start = new ProcessStartInfo(args[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in args[1..])
            {
                start.ArgumentList.Add(a);
            }

            using Process process = Process.Start(start)!;
            var output = new StringBuilder();
            process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                if (!await WaitListening(process, port))
                {
                    continue; // The port was taken (or the tool failed to start): try another.
                }

                await body(port);
                return;
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                await process.WaitForExitAsync();
            }
        }

        Assert.Fail("Could not start the peer server on any port.");
    }

    private static async Task<bool> WaitListening(Process process, int port)
    {
        for (int i = 0; i < 100; i++)
        {
            if (process.HasExited)
            {
                return false;
            }

            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // A bare TCP probe: both tools survive a connection that closes without a handshake.
                await probe.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                probe.Close();
                await Task.Delay(50);
                return !process.HasExited;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        return false;
    }
}
