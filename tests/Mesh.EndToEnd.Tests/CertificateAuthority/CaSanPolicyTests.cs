using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Mesh.ControlPlane.File;
using Mesh.Identity;
using NUnit.Framework;

namespace Mesh.EndToEnd.Tests.CertificateAuthority;

/// <summary>
/// DNS and IP SANs: the workload talks to the CA directly and is not trusted to name hosts (Consul lets only its trusted agent
/// add DNS SANs). A CSR with any DNS or IP SAN is refused unless the operator listed that DNS name for the service.
/// </summary>
public sealed class CaSanPolicyTests
{
    private const string DashboardUri = "/ns/default/dc/dc1/svc/dashboard";

    [TestCase("counting.default.dc1.internal.11111111-2222-3333-4444-555555555555.consul", TestName = "DNS SAN of another service's SNI name refused")]
    [TestCase("*.example.com", TestName = "Wildcard DNS SAN refused")]
    [TestCase("localhost", TestName = "DNS SAN localhost refused")]
    [TestCase("dashboard.example.com", TestName = "DNS SAN refused when the entry lists none")]
    public async Task A_dns_san_is_refused_by_default(string dns)
    {
        await using CaApiServer server = await CaApiServer.StartAsync(CertificateAuthorityToken.ForService("t-dash", new ServiceName("dashboard")));
        CaAnswer answer = await server.SignAsync("t-dash", CsrBuilder.Pem(CaApiServer.Spiffe(DashboardUri), dnsNames: [dns]));
        Assert.That(answer.Status, Is.EqualTo(400), answer.ToString());
        Assert.That(answer.Rule, Is.EqualTo("SanNotAllowed"));
        Assert.That(server.Issued, Is.Zero);
    }

    [TestCase("10.0.0.1", TestName = "IPv4 SAN refused")]
    [TestCase("::1", TestName = "IPv6 SAN refused")]
    [TestCase("127.0.0.1", TestName = "Loopback IP SAN refused")]
    public async Task An_ip_san_is_always_refused(string ip)
    {
        await using CaApiServer server = await CaApiServer.StartAsync(
            CertificateAuthorityToken.ForService("t-dash", new ServiceName("dashboard"), ["dashboard.example.com"]));
        CaAnswer answer = await server.SignAsync("t-dash", CsrBuilder.Pem(CaApiServer.Spiffe(DashboardUri), dnsNames: ["dashboard.example.com"], ipAddresses: [IPAddress.Parse(ip)]));
        Assert.That(answer.Status, Is.EqualTo(400), answer.ToString());
        Assert.That(answer.Rule, Is.EqualTo("SanNotAllowed"));
        Assert.That(server.Issued, Is.Zero);
    }

    [Test]
    public async Task Dns_names_listed_for_the_service_are_signed_and_others_are_refused()
    {
        await using CaApiServer server = await CaApiServer.StartAsync(
            CertificateAuthorityToken.ForService("t-dash", new ServiceName("dashboard"), ["dashboard.example.com", "dash.internal"]));
        CaAnswer allowed = await server.SignAsync("t-dash", CsrBuilder.Pem(CaApiServer.Spiffe(DashboardUri), dnsNames: ["dashboard.example.com", "DASH.internal"]));
        CaAnswer mixed = await server.SignAsync("t-dash", CsrBuilder.Pem(CaApiServer.Spiffe(DashboardUri), dnsNames: ["dashboard.example.com", "evil.example.com"]));
        Assert.That(allowed.Status, Is.EqualTo(200), allowed.ToString());
        Assert.That(mixed.Status, Is.EqualTo(400), mixed.ToString());
        Assert.That(mixed.Rule, Is.EqualTo("SanNotAllowed"));
        Assert.That(mixed.Error, Does.Contain("evil.example.com"));
        Assert.That(server.Issued, Is.EqualTo(1));

        using var document = JsonDocument.Parse(allowed.Body);
        using X509Certificate2 leaf = X509Certificate2.CreateFromPem(document.RootElement.GetProperty("CertPEM").GetString());
        var san = leaf.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.That(san.EnumerateDnsNames(), Is.EquivalentTo(new[] { "dashboard.example.com", "DASH.internal" }));
        Assert.That(san.EnumerateIPAddresses(), Is.Empty);
    }

    [Test]
    public async Task A_gateway_token_signs_no_dns_san()
    {
        await using CaApiServer server = await CaApiServer.StartAsync(CertificateAuthorityToken.ForMeshGateway("t-gw"));
        CaAnswer answer = await server.SignAsync("t-gw", CsrBuilder.Pem(CaApiServer.Spiffe("/gateway/mesh/dc/dc1"), dnsNames: ["gateway.example.com"]));
        Assert.That(answer.Status, Is.EqualTo(400), answer.ToString());
        Assert.That(answer.Rule, Is.EqualTo("SanNotAllowed"));
        Assert.That(server.Issued, Is.Zero);
    }
}
