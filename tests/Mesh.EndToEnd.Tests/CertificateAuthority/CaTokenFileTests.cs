using System.Text;
using Mesh.ControlPlane.File;
using Mesh.Identity;
using NUnit.Framework;

namespace Mesh.EndToEnd.Tests.CertificateAuthority;

/// <summary>The shape of <c>CA.Tokens</c> in the control-plane file, validated at load with messages that name the field and never the token.</summary>
public sealed class CaTokenFileTests
{
    [Test]
    public void Service_and_gateway_entries_are_read_with_their_scope()
    {
        ControlPlaneConfiguration config = Parse("""
            [ { "Token": "a-secret", "Service": "dashboard", "Namespace": "payments", "Partition": "finance", "DnsNames": ["dash.example.com"] },
              { "Token": "b-secret", "Service": "counting" },
              { "Token": "c-secret", "MeshGateway": true, "Partition": "finance" } ]
            """);
        Assert.That(config.CertificateAuthorityTokens, Has.Count.EqualTo(3));
        CertificateAuthorityToken dashboard = config.FindServiceToken(new ServiceName("dashboard", "payments", "finance"))!;
        Assert.That(dashboard.Token, Is.EqualTo("a-secret"));
        Assert.That(dashboard.DnsNames, Is.EqualTo(new[] { "dash.example.com" }));
        Assert.That(config.FindServiceToken(new ServiceName("dashboard")), Is.Null);
        Assert.That(config.FindServiceToken(new ServiceName("counting"))!.Token, Is.EqualTo("b-secret"));
        CertificateAuthorityToken gateway = config.CertificateAuthorityTokens[2];
        Assert.That(gateway.Kind, Is.EqualTo(CertificateAuthorityTokenKind.MeshGateway));
        Assert.That(gateway.Partition, Is.EqualTo("finance"));
        Assert.That(gateway.ToString(), Is.EqualTo("mesh-gateway finance"));
        Assert.That(dashboard.ToString(), Is.EqualTo("service finance/payments/dashboard"));
    }

    [TestCase("""{ "dashboard": "old-map-secret" }""", "CA.Tokens", TestName = "The old service-to-token map is refused")]
    [TestCase("""[ { "Service": "dashboard" } ]""", "CA.Tokens[0].Token", TestName = "An entry without a token is refused")]
    [TestCase("""[ { "Token": "   ", "Service": "dashboard" } ]""", "CA.Tokens[0].Token", TestName = "A blank token is refused")]
    [TestCase("""[ { "Token": "lonely-secret" } ]""", "CA.Tokens[0]", TestName = "An entry naming nothing is refused")]
    [TestCase("""[ { "Token": "gw-secret", "MeshGateway": true, "Service": "dashboard" } ]""", "CA.Tokens[0]", TestName = "A gateway entry naming a service is refused")]
    [TestCase("""[ { "Token": "gw-secret", "MeshGateway": true, "DnsNames": ["a.example.com"] } ]""", "CA.Tokens[0].DnsNames", TestName = "A gateway entry with DNS names is refused")]
    [TestCase("""[ { "Token": "ns-secret", "Service": "dashboard", "Namespace": "bad.ns" } ]""", "CA.Tokens[0].Namespace", TestName = "An invalid namespace is refused")]
    [TestCase("""[ { "Token": "dns-secret", "Service": "dashboard", "DnsNames": ["*.example.com"] } ]""", "CA.Tokens[0].DnsNames[0]", TestName = "A wildcard DNS name is refused")]
    [TestCase("""[ { "Token": "dns-secret", "Service": "dashboard", "DnsNames": ["10.0.0.1"] } ]""", "CA.Tokens[0].DnsNames[0]", TestName = "An IP address as a DNS name is refused")]
    [TestCase("""[ { "Token": "dup-secret", "Service": "dashboard" }, { "Token": "dup-secret", "Service": "counting" } ]""", "CA.Tokens[1].Token", TestName = "One token in two entries is refused")]
    [TestCase("""[ { "Token": "one-secret", "Service": "dashboard" }, { "Token": "two-secret", "Service": "dashboard" } ]""", "CA.Tokens[1]", TestName = "Two entries for one service are refused")]
    [TestCase("""[ { "Token": "typo-secret", "Servce": "dashboard" } ]""", "CA.Tokens", TestName = "An unknown field in an entry is refused")]
    public void An_invalid_token_list_is_refused_naming_the_field_and_not_the_token(string tokens, string field)
    {
        var ex = Assert.Throws<ControlPlaneFileException>(() => Parse(tokens));
        Assert.That(ex!.Field, Does.StartWith(field.Replace("CA.Tokens", "$.CA.Tokens", StringComparison.Ordinal)).Or.StartWith(field), ex.Message);
        foreach (string secret in new[] { "old-map-secret", "lonely-secret", "gw-secret", "ns-secret", "dns-secret", "dup-secret", "one-secret", "two-secret", "typo-secret" })
        {
            Assert.That(ex.Message, Does.Not.Contain(secret));
        }
    }

    [TestCase("samples/Mesh.Demo/topology.json", "dashboard", "counting")]
    [TestCase("samples/Mesh.InProcess/mesh.json", "dashboard", "counting")]
    public void The_sample_files_list_a_token_per_service(string relativePath, string first, string second)
    {
        string root = TestContext.CurrentContext.TestDirectory;
        while (!Directory.Exists(Path.Combine(root, "samples")))
        {
            root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("The repository root (with samples/) is not above the test directory.");
        }

        ControlPlaneConfiguration config = ControlPlaneConfiguration.Load(Path.Combine(root, relativePath));
        Assert.That(config.FindServiceToken(new ServiceName(first)), Is.Not.Null);
        Assert.That(config.FindServiceToken(new ServiceName(second)), Is.Not.Null);
    }

    private static ControlPlaneConfiguration Parse(string tokens) => ControlPlaneConfiguration.Parse(
        Encoding.UTF8.GetBytes($$"""{ "TrustDomain": "{{CaApiServer.TrustDomainName}}", "CA": { "Address": "http://127.0.0.1:8501", "Tokens": {{tokens}} } }"""),
        "test.json");
}
