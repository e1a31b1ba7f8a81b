using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.Authority;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Real TLS and proxy implementations on the mesh's wire: openssl s_client as a mesh client through both gateways, and HAProxy
/// routing by SNI in place of the dc1 gateway. Both are Debian packages that CI installs.
/// </summary>
[NonParallelizable]
public sealed class RealPeerTests
{
    [Test]
    public async Task Openssl_s_client_with_a_dashboard_certificate_reaches_counting_through_both_gateways()
    {
        RequireTool("openssl");
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        using var files = new TempFiles();
        LeafCertificate dashboard = mesh.IssueLeaf(TwoDatacenterMesh.Dashboard, "dc1");
        string cert = files.Write("dashboard.pem", MeshPem.WriteCertificates([dashboard.Certificate]));
        string key = files.Write("dashboard.key", MeshPem.WritePkcs8PrivateKey(dashboard.Certificate.GetECDsaPrivateKey()!));
        string roots = files.Write("roots.pem", MeshPem.WriteCertificates(mesh.Ca.Roots.Select(r => r.Certificate)));
        string sni = "counting.default.dc2.internal." + TwoDatacenterMesh.TrustDomain.Name;

        using var client = ExternalProcess.Start("openssl", "s_client", "-connect", mesh.GatewayDc1.LocalEndPoints[0].ToString(),
            "-servername", sni, "-cert", cert, "-key", key, "-CAfile", roots, "-verify_return_error", "-tls1_3", "-quiet");
        await client.Input.WriteLineAsync("hello from openssl");
        await client.Input.FlushAsync();

        Assert.That(await client.WaitForOutputAsync("hello from openssl", TimeSpan.FromSeconds(15)), Is.True,
            "the echo came back through gateway dc1, gateway dc2 and counting's sidecar; openssl said: " + client.Output);
        Assert.That(mesh.CountingDc2App.Peers, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Openssl_s_client_with_a_certificate_from_another_ca_is_refused()
    {
        RequireTool("openssl");
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        using var otherCa = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = TwoDatacenterMesh.TrustDomain, Datacenter = "dc1" });
        LeafCertificate impostor = otherCa.IssueLeaf(new ServiceIdentity(TwoDatacenterMesh.Dashboard, "dc1").ToSpiffeId(TwoDatacenterMesh.TrustDomain));
        using var files = new TempFiles();
        string cert = files.Write("impostor.pem", MeshPem.WriteCertificates([impostor.Certificate]));
        string key = files.Write("impostor.key", MeshPem.WritePkcs8PrivateKey(impostor.Certificate.GetECDsaPrivateKey()!));
        string roots = files.Write("roots.pem", MeshPem.WriteCertificates(mesh.Ca.Roots.Select(r => r.Certificate)));

        using var client = ExternalProcess.Start("openssl", "s_client", "-connect", mesh.GatewayDc1.LocalEndPoints[0].ToString(),
            "-servername", "counting.default.dc2.internal." + TwoDatacenterMesh.TrustDomain.Name,
            "-cert", cert, "-key", key, "-CAfile", roots, "-tls1_3", "-quiet");
        await client.Input.WriteLineAsync("should not arrive");
        await client.Input.FlushAsync();

        Assert.That(await client.WaitForOutputAsync("should not arrive", TimeSpan.FromSeconds(3)), Is.False);
        Assert.That(mesh.CountingDc2App.Peers, Is.Empty, "nothing reached the application");
    }

    [Test]
    public async Task Haproxy_routing_by_sni_stands_in_for_the_dc1_gateway()
    {
        RequireTool("haproxy");
        await using var mesh = await TwoDatacenterMesh.StartAsync();
        using var files = new TempFiles();
        IPEndPoint gatewayDc2 = mesh.GatewayDc2.LocalEndPoints[0];

        using ExternalProcess haproxy = StartHaproxy(files, gatewayDc2, out IPEndPoint haproxyAddress);
        // dc1's gateway, as the catalog tells dashboard's sidecar, is now HAProxy.
        mesh.Catalog.Replace(
            [new ServiceEndpoint(new ServiceIdentity(TwoDatacenterMesh.Counting, "dc2"), mesh.CountingDc2Sidecar.PublicEndPoint!)],
            [new MeshGatewayEndpoint("dc1", haproxyAddress, haproxyAddress), new MeshGatewayEndpoint("dc2", gatewayDc2, gatewayDc2)]);

        byte[] payload = RandomNumberGenerator.GetBytes(512 * 1024);
        byte[] echoed = await LifeOfAPacketTests.RoundTripAsync(mesh.UpstreamToDc2, payload);

        Assert.That(echoed, Is.EqualTo(payload), "HAProxy routed the ClientHello by SNI to the dc2 gateway: " + haproxy.Output);
    }

    private static ExternalProcess StartHaproxy(TempFiles files, IPEndPoint gatewayDc2, out IPEndPoint address)
    {
        // HAProxy needs a fixed port: pick one below 32768 (outside the ephemeral range) and retry when it is taken.
        for (int attempt = 0; attempt < 20; attempt++)
        {
            int port = 20000 + Random.Shared.Next(0, 10000);
            address = new IPEndPoint(IPAddress.Loopback, port);
            string config = files.Write($"haproxy-{port}.cfg", $$"""
                global
                  maxconn 256
                defaults
                  mode tcp
                  timeout connect 5s
                  timeout client 30s
                  timeout server 30s
                frontend dc1_gateway
                  bind 127.0.0.1:{{port}}
                  tcp-request inspect-delay 5s
                  tcp-request content accept if { req_ssl_hello_type 1 }
                  use_backend dc2_gateways if { req.ssl_sni -m end .dc2.internal.{{TwoDatacenterMesh.TrustDomain.Name}} }
                backend dc2_gateways
                  server gw2 {{gatewayDc2}}

                """);
            var haproxy = ExternalProcess.Start("haproxy", "-db", "-f", config);
            if (WaitUntilListening(address, haproxy))
            {
                return haproxy;
            }

            haproxy.Dispose();
        }

        throw new InvalidOperationException("HAProxy could not bind a port below 32768 after 20 attempts.");
    }

    private static bool WaitUntilListening(IPEndPoint address, ExternalProcess process)
    {
        for (int i = 0; i < 50 && !process.HasExited; i++)
        {
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Connect(address);
                return true;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        return false;
    }

    private static void RequireTool(string tool)
    {
        if (!ExternalProcess.IsInstalled(tool))
        {
            Assert.Fail($"{tool} is not installed; install it with apt-get (CI's .ci/run does).");
        }
    }

    private sealed class TempFiles : IDisposable
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("mesh-e2e-").FullName;

        public string Write(string name, string content)
        {
            string path = Path.Combine(_directory, name);
            File.WriteAllText(path, content);
            return path;
        }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}
