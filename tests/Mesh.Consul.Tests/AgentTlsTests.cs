using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.Consul.TestAgent;
using Mesh.Diagnostics;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed class AgentTlsTests
{
    [Test]
    public async Task An_https_agent_is_trusted_through_CONSUL_CACERT_and_given_CONSUL_CLIENT_CERT()
    {
        using TestPki pki = TestPki.Create();
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync(serverCertificate: pki.Server, clientCertificateAuthority: pki.Authority);
        ConsulOptions options = ConsulOptions.FromEnvironment(name => name switch
        {
            "CONSUL_HTTP_ADDR" => $"127.0.0.1:{agent.Port}",
            "CONSUL_HTTP_SSL" => "true",
            "CONSUL_CACERT" => pki.AuthorityFile,
            "CONSUL_CLIENT_CERT" => pki.ClientFile,
            "CONSUL_CLIENT_KEY" => pki.ClientKeyFile,
            _ => null,
        });
        options.WaitTime = TimeSpan.FromSeconds(2);
        using var client = new ConsulAgentClient(options);
        await using var leaves = new ConsulLeafSource(client, "web");

        Assert.That((await leaves.GetLeafAsync(Timeout())).Certificate.HasPrivateKey, Is.True);
    }

    [Test]
    public async Task An_https_agent_outside_CONSUL_CACERT_is_refused()
    {
        using TestPki pki = TestPki.Create();
        using TestPki other = TestPki.Create();
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync(serverCertificate: pki.Server);
        ConsulOptions options = FastOptions(agent);
        options.CaCertificateFile = other.AuthorityFile;
        var log = new CapturedLog();
        using var client = new ConsulAgentClient(options, log);
        await using var leaves = new ConsulLeafSource(client, "web");

        await EventuallyAsync(() => log.Count(MeshLogEvents.ConsulAgentUnreachable) == 1, "the refused agent is reported");
        Assert.That(leaves.Current, Is.Null);
    }

    /// <summary>A CA, a server certificate for 127.0.0.1 and a client certificate, with PEM files as Consul's variables name them.</summary>
    private sealed class TestPki : IDisposable
    {
        private readonly string _folder = Directory.CreateTempSubdirectory("mesh-consul-pki").FullName;

        public required X509Certificate2 Authority { get; init; }

        public required X509Certificate2 Server { get; init; }

        public string AuthorityFile => Path.Combine(_folder, "ca.pem");

        public string ClientFile => Path.Combine(_folder, "client.pem");

        public string ClientKeyFile => Path.Combine(_folder, "client-key.pem");

        public static TestPki Create()
        {
            using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var caRequest = new CertificateRequest("CN=Consul Agent CA", caKey, HashAlgorithmName.SHA256);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            X509Certificate2 authority = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));

            X509Certificate2 server = Issue(authority, caKey, "CN=server.dc1.consul", "1.3.6.1.5.5.7.3.1", out _);
            using X509Certificate2 clientCertificate = Issue(authority, caKey, "CN=client.dc1.consul", "1.3.6.1.5.5.7.3.2", out ECDsa clientKey);
            var pki = new TestPki { Authority = authority, Server = server };
            File.WriteAllText(pki.AuthorityFile, authority.ExportCertificatePem());
            File.WriteAllText(pki.ClientFile, clientCertificate.ExportCertificatePem());
            File.WriteAllText(pki.ClientKeyFile, clientKey.ExportPkcs8PrivateKeyPem());
            clientKey.Dispose();
            return pki;
        }

        public void Dispose()
        {
            Authority.Dispose();
            Server.Dispose();
            Directory.Delete(_folder, recursive: true);
        }

        private static X509Certificate2 Issue(X509Certificate2 authority, ECDsa caKey, string subject, string usage, out ECDsa key)
        {
            key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
            using X509Certificate2 issued = request.Create(authority.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(8));
            return issued.CopyWithPrivateKey(key);
        }
    }
}
