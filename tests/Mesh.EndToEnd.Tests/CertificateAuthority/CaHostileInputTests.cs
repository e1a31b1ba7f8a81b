using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Mesh.ControlPlane.File;
using Mesh.Identity;
using Mesh.Tls.Authority.Api;
using NUnit.Framework;

namespace Mesh.EndToEnd.Tests.CertificateAuthority;

/// <summary>
/// Hostile input for the CA API, over HTTP: each case asserts the refusal (status and rule), that nothing was issued, and that
/// neither the answer nor any log line holds a token.
/// </summary>
public sealed class CaHostileInputTests
{
    private const string DashboardToken = "dashboard-hostile-secret-5b1e";
    private const string CountingToken = "counting-hostile-secret-c04d";
    private const string GatewayToken = "gateway-hostile-secret-77aa";
    private static readonly string DashboardUri = CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard");

    public static IEnumerable<TestCaseData> Cases()
    {
        string csr = CsrBuilder.Pem(DashboardUri);
        string body = Json(csr);
        yield return Case("No token header", null, body, 403, "Unauthorized");
        yield return Case("Empty token", "", body, 403, "Unauthorized");
        yield return Case("Wrong token", "not-a-token", body, 403, "Unauthorized");
        yield return Case("Token in other letter case", DashboardToken.ToUpperInvariant(), body, 403, "Unauthorized");
        yield return Case("Token prefix", DashboardToken[..^1], body, 403, "Unauthorized");
        yield return Case("Token with a suffix", DashboardToken + "x", body, 403, "Unauthorized");
        yield return Case("Another service's token", CountingToken, body, 403, "Unauthorized");
        yield return Case("Gateway token for a service", GatewayToken, body, 403, "Unauthorized");
        yield return Case("Token for another namespace", DashboardToken, Json(CsrBuilder.Pem(CaApiServer.Spiffe("/ns/payments/dc/dc1/svc/dashboard"))), 403, "Unauthorized");
        yield return Case("Token for another partition", DashboardToken, Json(CsrBuilder.Pem(CaApiServer.Spiffe("/ap/evil/ns/default/dc/dc1/svc/dashboard"))), 403, "Unauthorized");
        yield return Case("Gateway token for another partition", GatewayToken, Json(CsrBuilder.Pem(CaApiServer.Spiffe("/ap/evil/gateway/mesh/dc/dc1"))), 403, "Unauthorized");
        yield return Case("Service token for a server agent", DashboardToken, Json(CsrBuilder.Pem(CaApiServer.Spiffe("/agent/server/dc/dc1"))), 403, "Unauthorized");
        yield return Case("Another trust domain", DashboardToken, Json(CsrBuilder.Pem("spiffe://99999999-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/dashboard")), 400, "WrongTrustDomain");
        yield return Case("Another datacenter", DashboardToken, Json(CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc9/svc/dashboard"))), 400, "WrongDatacenter");
        yield return Case("Two URI SANs", DashboardToken, Json(TwoUris()), 400, "UriSanCount");
        yield return Case("DNS SAN of another service", DashboardToken, Json(CsrBuilder.Pem(DashboardUri, ["counting.default.dc1.internal.11111111-2222-3333-4444-555555555555.consul"])), 400, "SanNotAllowed");
        yield return Case("IP SAN", DashboardToken, Json(CsrBuilder.Pem(DashboardUri, ipAddresses: [System.Net.IPAddress.Parse("10.0.0.1")])), 400, "SanNotAllowed");
        yield return Case("Tampered CSR signature", DashboardToken, Json(Tampered(csr)), 400, "BadSignature");
        yield return Case("Service name in other letter case", DashboardToken, Json(CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/Dashboard"))), 403, "Unauthorized");
        yield return Case("Namespace in other letter case", DashboardToken, Json(CsrBuilder.Pem(CaApiServer.Spiffe("/ns/Default/dc/dc1/svc/dashboard"))), 403, "Unauthorized");
        yield return Case("Explicit default partition", DashboardToken, Json(CsrBuilder.Pem(CaApiServer.Spiffe("/ap/default/ns/default/dc/dc1/svc/dashboard"))), 400, "UnsupportedIdentity");
        yield return Case("Percent-encoded service name", DashboardToken, Json(CsrBuilder.PemWithRawUri(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dash%62oard"))), 400, "InvalidSpiffeId");
        yield return Case("Dot segments in the SPIFFE path", DashboardToken, Json(CsrBuilder.PemWithRawUri(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard/../counting"))), 400, "InvalidSpiffeId");
        yield return Case("Trailing slash", DashboardToken, Json(CsrBuilder.PemWithRawUri(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard/"))), 400, "InvalidSpiffeId");
        yield return Case("Dot segments to another service", DashboardToken, Json(CsrBuilder.PemWithRawUri(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/counting/../dashboard"))), 400, "InvalidSpiffeId");
        yield return Case("Query in the SPIFFE ID", DashboardToken, Json(CsrBuilder.PemWithRawUri(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard?x=1"))), 400, "InvalidSpiffeId");
        yield return Case("Many DNS SANs", DashboardToken, Json(CsrBuilder.Pem(DashboardUri, [.. Enumerable.Range(0, 300).Select(i => $"h{i}.example.com")])), 400, "SanNotAllowed");
        yield return Case("Empty body", DashboardToken, "", 400, "MalformedRequest");
        yield return Case("Garbage JSON", DashboardToken, "{{{\"CSR\":", 400, "MalformedRequest");
        yield return Case("JSON array", DashboardToken, "[1,2,3]", 400, "MalformedRequest");
        yield return Case("JSON null", DashboardToken, "null", 400, "MalformedRequest");
        yield return Case("CSR as a number", DashboardToken, "{\"CSR\": 5}", 400, "MalformedRequest");
        yield return Case("CSR empty", DashboardToken, "{\"CSR\": \"\"}", 400, "MalformedRequest");
        yield return Case("Deeply nested JSON", DashboardToken, new string('[', 5000) + new string(']', 5000), 400, "MalformedRequest");
        yield return Case("Garbage PEM", DashboardToken, Json("-----BEGIN CERTIFICATE REQUEST-----\n!!!!not base64!!!!\n-----END CERTIFICATE REQUEST-----\n"), 400, "MalformedRequest");
        yield return Case("PEM of random bytes", DashboardToken, Json(PemEncoding.WriteString("CERTIFICATE REQUEST", RandomNumberGenerator.GetBytes(300))), 400, "MalformedRequest");
        yield return Case("PEM with trailing bytes after the CSR", DashboardToken, Json(PemEncoding.WriteString("CERTIFICATE REQUEST", [.. Der(csr), 0, 0])), 400, "MalformedRequest");
        yield return Case("Two CSRs in one PEM", DashboardToken, Json(csr + "\n" + CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/counting"))), 400, "MalformedRequest");
        yield return Case("A CSR and a private key in one PEM", DashboardToken, Json(csr + "\n" + PemEncoding.WriteString("PRIVATE KEY", RandomNumberGenerator.GetBytes(64))), 400, "MalformedRequest");
        yield return Case("A certificate instead of a CSR", DashboardToken, Json(SelfSigned()), 400, "MalformedRequest");
        yield return Case("Not PEM at all", DashboardToken, Json("hello"), 400, "MalformedRequest");
    }

    [TestCaseSource(nameof(Cases))]
    public async Task The_CA_refuses_hostile_input_and_issues_nothing(string? token, string body, int status, string rule)
    {
        await using CaApiServer server = await Start();
        CaAnswer answer = await server.PostAsync(token, body);
        Assert.That(answer.Status, Is.EqualTo(status), answer.ToString());
        Assert.That(answer.Rule, Is.EqualTo(rule), answer.ToString());
        Assert.That(answer.Error, Is.Not.Empty);
        AssertNothingIssuedAndNoTokenShown(server, answer.Body);
    }

    [Test]
    public async Task Invalid_utf8_in_the_body_is_refused()
    {
        await using CaApiServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        using var content = new ByteArrayContent([.. "{\"CSR\": \""u8.ToArray(), 0xC3, 0x28, 0xFF, .. "\"}"u8.ToArray()]);
        using var request = new HttpRequestMessage(HttpMethod.Post, CertificateAuthorityApi.SignPath) { Content = content };
        request.Headers.Add(CertificateAuthorityApi.TokenHeader, DashboardToken);
        using HttpResponseMessage response = await http.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.EqualTo(400), text);
        AssertNothingIssuedAndNoTokenShown(server, text);
    }

    [Test]
    public async Task A_long_wrong_token_is_refused_and_never_echoed()
    {
        await using CaApiServer server = await Start();
        string longToken = DashboardToken + new string('z', 6000);
        CaAnswer answer = await server.SignAsync(longToken, CsrBuilder.Pem(DashboardUri));
        Assert.That(answer.Status, Is.EqualTo(403), answer.ToString());
        Assert.That(answer.Body, Does.Not.Contain("zzzzzzzz"));
        Assert.That(server.AllLogText(), Does.Not.Contain("zzzzzzzz"));
        AssertNothingIssuedAndNoTokenShown(server, answer.Body);
    }

    [Test]
    public async Task Huge_headers_are_refused_by_the_server()
    {
        await using CaApiServer server = await Start();
        string head = $"POST {CertificateAuthorityApi.SignPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n{CertificateAuthorityApi.TokenHeader}: {DashboardToken}\r\n" +
            $"X-Padding: {new string('a', 128 * 1024)}\r\nContent-Length: 2\r\n\r\n{{}}";
        (int status, string response) = await RawHttp.SendAsync(server.Address, head);
        Assert.That(status, Is.EqualTo(431), response);
        AssertNothingIssuedAndNoTokenShown(server, response);
    }

    [Test]
    public async Task Two_token_headers_are_refused()
    {
        await using CaApiServer server = await Start();
        string body = Json(CsrBuilder.Pem(DashboardUri));
        string head = $"POST {CertificateAuthorityApi.SignPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n{CertificateAuthorityApi.TokenHeader}: {CountingToken}\r\n" +
            $"{CertificateAuthorityApi.TokenHeader}: {DashboardToken}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}";
        (int status, string response) = await RawHttp.SendAsync(server.Address, head);
        Assert.That(status, Is.EqualTo(403), response);
        AssertNothingIssuedAndNoTokenShown(server, response);
    }

    [Test]
    public async Task A_get_on_the_sign_path_is_refused()
    {
        await using CaApiServer server = await Start();
        using var http = new HttpClient { BaseAddress = server.Address };
        using HttpResponseMessage response = await http.GetAsync(CertificateAuthorityApi.SignPath);
        Assert.That((int)response.StatusCode, Is.EqualTo(405));
        Assert.That(server.Issued, Is.Zero);
    }

    [Test]
    public async Task Brute_force_from_one_address_is_refused_after_a_handful_of_guesses_and_no_guess_is_logged()
    {
        await using CaApiServer server = await Start();
        string body = Json(CsrBuilder.Pem(DashboardUri));
        var statuses = new List<int>();
        for (int i = 0; i < 200; i++)
        {
            CaAnswer answer = await server.PostAsync($"{DashboardToken[..^4]}{i:x4}", body);
            statuses.Add(answer.Status);
            Assert.That(answer.Body, Does.Not.Contain(DashboardToken[..^4]));
        }

        Assert.That(statuses.Count(s => s == 403), Is.LessThanOrEqualTo(5), string.Join(",", statuses.Distinct()));
        Assert.That(statuses.Count(s => s == 429), Is.GreaterThanOrEqualTo(195));
        Assert.That(server.AllLogText(), Does.Not.Contain(DashboardToken[..^4]));
        Assert.That(server.Issued, Is.Zero);
    }

    private static void AssertNothingIssuedAndNoTokenShown(CaApiServer server, string answer)
    {
        Assert.That(server.Issued, Is.Zero, "nothing may be issued");
        string logs = server.AllLogText();
        foreach (string secret in new[] { DashboardToken, CountingToken, GatewayToken })
        {
            Assert.That(answer, Does.Not.Contain(secret));
            Assert.That(logs, Does.Not.Contain(secret));
        }
    }

    private static Task<CaApiServer> Start() => CaApiServer.StartAsync(
        CertificateAuthorityToken.ForService(DashboardToken, new ServiceName("dashboard")),
        CertificateAuthorityToken.ForService(CountingToken, new ServiceName("counting")),
        CertificateAuthorityToken.ForMeshGateway(GatewayToken));

    private static TestCaseData Case(string name, string? token, string body, int status, string rule) =>
        new TestCaseData(token, body, status, rule).SetName("Hostile CA input: " + name);

    private static string Json(string csr) => JsonSerializer.Serialize(new Dictionary<string, string> { ["CSR"] = csr });

    private static byte[] Der(string pem) => PemEncoding.TryFind(pem, out PemFields fields) ? Convert.FromBase64String(pem[fields.Base64Data]) : [];

    private static string Tampered(string pem)
    {
        byte[] der = Der(pem);
        der[^3] ^= 0x5A;
        return PemEncoding.WriteString("CERTIFICATE REQUEST", der);
    }

    private static string TwoUris()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(""), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(DashboardUri));
        san.AddUri(new Uri(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/counting")));
        request.CertificateExtensions.Add(san.Build(critical: true));
        return request.CreateSigningRequestPem();
    }

    private static string SelfSigned()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=x", key, HashAlgorithmName.SHA256);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
        return certificate.ExportCertificatePem();
    }
}
