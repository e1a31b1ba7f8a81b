using System.Net;
using System.Text;
using Mesh.ControlPlane.File;
using Mesh.Identity;
using Mesh.Tls.Authority.Api;
using NUnit.Framework;

namespace Mesh.EndToEnd.Tests.CertificateAuthority;

/// <summary>
/// The CA API's own limits: a fixed cap on the request body, checked before the body is read, and a limit on failed
/// authorizations per client address, so tokens cannot be guessed at full speed.
/// </summary>
public sealed class CaRequestLimitTests
{
    private const string Token = "t-dashboard-limits";

    [Test]
    public async Task A_body_announced_past_the_cap_is_refused_with_413_before_it_is_sent()
    {
        await using CaApiServer server = await Start();
        string head = $"POST {CertificateAuthorityApi.SignPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n{CertificateAuthorityApi.TokenHeader}: {Token}\r\n" +
            "Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n";

        // Only the first 64 KiB of the announced 20 MB are ever sent: the answer must not wait for the rest.
        (int status, string response) = await RawHttp.SendAsync(server.Address, head, RawHttp.Repeat(16 * 1024, 64 * 1024));
        Assert.That(status, Is.EqualTo(413), response);
        Assert.That(response, Does.Contain("RequestTooLarge"));
        Assert.That(server.Issued, Is.Zero);
    }

    [Test]
    public async Task A_chunked_body_growing_past_the_cap_is_refused_with_413()
    {
        await using CaApiServer server = await Start();
        string head = $"POST {CertificateAuthorityApi.SignPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n{CertificateAuthorityApi.TokenHeader}: {Token}\r\n" +
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        byte[] chunk = Encoding.ASCII.GetBytes($"1000\r\n{new string('A', 0x1000)}\r\n");

        // 20 MB of 4 KiB chunks, never terminated: the server must answer once the cap is passed.
        (int status, string response) = await RawHttp.SendAsync(server.Address, head, Enumerable.Repeat<ReadOnlyMemory<byte>>(chunk, 5000));
        Assert.That(status, Is.EqualTo(413), response);
        Assert.That(server.Issued, Is.Zero);
    }

    [Test]
    public async Task A_valid_request_just_under_the_cap_is_still_signed()
    {
        await using CaApiServer server = await Start();
        string csr = CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard"));

        // JSON allows whitespace around values: pad the body to just under the cap.
        string body = "{\"CSR\": " + System.Text.Json.JsonSerializer.Serialize(csr) + "}";
        body = body.PadRight(CertificateAuthorityApi.MaxRequestBodyBytes - 10);
        CaAnswer answer = await server.PostAsync(Token, body);
        Assert.That(answer.Status, Is.EqualTo(200), answer.ToString());
    }

    [Test]
    public async Task Repeated_wrong_tokens_are_answered_429_then_the_address_recovers_over_time()
    {
        await using CaApiServer server = await Start();
        string csr = CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard"));
        var statuses = new List<int>();
        for (int i = 0; i < 20; i++)
        {
            statuses.Add((await server.SignAsync($"guess-{i}", csr)).Status);
        }

        Assert.That(statuses.Take(5), Is.All.EqualTo(403), string.Join(",", statuses));
        Assert.That(statuses.Skip(5), Is.All.EqualTo(429), string.Join(",", statuses));

        // While the address is limited even the right token is refused: a guess that hits must look like one that misses.
        CaAnswer limited = await server.SignAsync(Token, csr);
        Assert.That(limited.Status, Is.EqualTo(429), limited.ToString());
        Assert.That(limited.Rule, Is.EqualTo("TooManyFailedAuthorizations"));
        Assert.That(server.Issued, Is.Zero);

        server.Clock.Advance(TimeSpan.FromMinutes(1));
        CaAnswer recovered = await server.SignAsync(Token, csr);
        Assert.That(recovered.Status, Is.EqualTo(200), recovered.ToString());
        Assert.That(server.Issued, Is.EqualTo(1));
    }

    [Test]
    public async Task Garbage_sent_with_a_wrong_token_is_refused_as_unauthorized_and_counts_toward_the_limit()
    {
        await using CaApiServer server = await Start();
        var answers = new List<CaAnswer>();
        for (int i = 0; i < 8; i++)
        {
            answers.Add(await server.PostAsync($"guess-{i}", "{{{ not json"));
        }

        Assert.That(answers.Take(5).Select(a => a.Status), Is.All.EqualTo(403), string.Join(" | ", answers));
        Assert.That(answers.Take(5).Select(a => a.Rule), Is.All.EqualTo("Unauthorized"));
        Assert.That(answers.Skip(5).Select(a => a.Status), Is.All.EqualTo(429), string.Join(" | ", answers));

        // The refusals were logged a handful of times, not once per request.
        Assert.That(server.Logs.WithId(Mesh.Diagnostics.MeshLogEvents.CaRejected).Count(), Is.LessThanOrEqualTo(5));
        Assert.That(server.Issued, Is.Zero);
    }

    [Test]
    public async Task Failed_authorizations_of_one_address_do_not_limit_another()
    {
        await using CaApiServer server = await Start();
        byte[] body = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["CSR"] = CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard")),
        }));
        var attacker = IPAddress.Parse("192.0.2.7");
        for (int i = 0; i < 10; i++)
        {
            server.Api.Sign("wrong", body, attacker);
        }

        Assert.That(server.Api.Sign("wrong", body, attacker).StatusCode, Is.EqualTo(429));
        Assert.That(server.Api.Sign(Token, body, IPAddress.Parse("192.0.2.8")).StatusCode, Is.EqualTo(200));
    }

    private static Task<CaApiServer> Start() => CaApiServer.StartAsync(CertificateAuthorityToken.ForService(Token, new ServiceName("dashboard")));
}
