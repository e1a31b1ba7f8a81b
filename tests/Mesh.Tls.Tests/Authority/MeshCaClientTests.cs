using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.Authority.Api;

namespace Mesh.Tls.Tests.Authority;

/// <summary>
/// The CA client against a scripted CA role: roots followed by content as well as index (a restarted CA starts its index again),
/// an index that goes backwards taken as a reset (Consul's blocking-query rules), outages retried, refusals told apart.
/// </summary>
public sealed class MeshCaClientTests
{
    private static readonly SpiffeId Web = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/web");
    private static readonly Uri CaAddress = new("http://127.0.0.1:8501/");

    [Test]
    public async Task New_roots_under_the_same_index_are_published()
    {
        using var before = NewCa();
        using var after = NewCa();
        var ca = new ScriptedCa();
        ca.Roots.Enqueue(Roots(before, index: 3));
        ca.Roots.Enqueue(Roots(after, index: 3)); // a CA restarted with a new root and its index back at the same value
        await using var client = NewClient(ca);

        await client.StartAsync(Timeout());
        await Eventually(() => Anchors(client).Contains(Thumbprint(after)), () => $"anchors: {string.Join(", ", Anchors(client))}");

        Assert.That(Anchors(client), Does.Not.Contain(Thumbprint(before)));
        Assert.That(client.ActiveSigningKeyId.ToArray(), Is.EqualTo(after.ActiveSigningKeyId.ToArray()));
    }

    [Test]
    public async Task An_index_that_goes_backwards_resets_the_blocking_query()
    {
        using var first = NewCa();
        using var second = NewCa();
        var ca = new ScriptedCa();
        ca.Roots.Enqueue(Roots(first, index: 40));
        ca.Roots.Enqueue(Roots(second, index: 2));
        ca.Roots.Enqueue(Roots(second, index: 2));
        await using var client = NewClient(ca);

        await client.StartAsync(Timeout());
        await Eventually(() => ca.RootQueries.Count >= 4, () => $"queries: {string.Join(", ", ca.RootQueries)}");

        Assert.That(Anchors(client), Is.EqualTo(new[] { Thumbprint(second) }));
        Assert.That(ca.RootQueries.Skip(2), Has.None.Contain("index=40"), "after the index went backwards, the old index is forgotten");
    }

    [Test]
    public async Task StartAsync_waits_out_a_ca_that_is_briefly_down()
    {
        using var authority = NewCa();
        var ca = new ScriptedCa();
        ca.Roots.Enqueue(new HttpRequestException("Connection refused (127.0.0.1:8501)", new System.Net.Sockets.SocketException(111)));
        ca.Roots.Enqueue(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        ca.Roots.Enqueue(Roots(authority, index: 1));
        await using var client = NewClient(ca);

        await client.StartAsync(Timeout());

        Assert.That(Anchors(client), Is.EqualTo(new[] { Thumbprint(authority) }));
    }

    [Test]
    public async Task A_wrong_token_is_a_refusal_naming_the_service_and_the_ca_never_the_token()
    {
        var ca = new ScriptedCa();
        ca.Sign.Enqueue(Json(HttpStatusCode.Forbidden, """{"Error":"The caller's token does not allow certificates for 'spiffe://example.consul/ns/default/dc/dc1/svc/web'.","Rule":"Unauthorized"}"""));
        await using var client = NewClient(ca, token: "s3cret-token-value");

        var refused = Assert.ThrowsAsync<CertificateSigningException>(async () => await client.IssueAsync(Timeout()));

        Assert.Multiple(() =>
        {
            Assert.That(refused!.Error, Is.EqualTo(CertificateSigningError.Unauthorized));
            Assert.That(refused.Message, Does.Contain("svc/web").And.Contain("127.0.0.1:8501"));
            Assert.That(refused.Message, Does.Not.Contain("s3cret-token-value"));
        });
    }

    [TestCase(HttpStatusCode.InternalServerError)]
    [TestCase(HttpStatusCode.BadGateway)]
    [TestCase(HttpStatusCode.ServiceUnavailable)]
    public async Task A_server_error_is_transient_not_a_refusal(HttpStatusCode status)
    {
        var ca = new ScriptedCa();
        ca.Sign.Enqueue(Json(status, """{"Error":"internal"}"""));
        await using var client = NewClient(ca);

        var failed = Assert.ThrowsAsync<HttpRequestException>(async () => await client.IssueAsync(Timeout()));

        Assert.That(failed!.StatusCode, Is.EqualTo(status));
        Assert.That(failed.Message, Does.Contain("127.0.0.1:8501"));
    }

    private static MeshCertificateAuthority NewCa() => new(new MeshCaOptions { TrustDomain = Web.TrustDomain, SigningRateLimit = 0 });

    private static MeshCaClient NewClient(ScriptedCa ca, string token = "token") =>
        new(new HttpClient(ca) { BaseAddress = CaAddress }, Web, token)
        {
            RetryInitialDelay = TimeSpan.FromMilliseconds(10),
            MinimumQueryInterval = TimeSpan.FromMilliseconds(10),
        };

    private static HttpResponseMessage Roots(MeshCertificateAuthority authority, long index)
    {
        CaApiResponse roots = new CertificateAuthorityApi(authority, Array.Empty<Mesh.ControlPlane.File.CertificateAuthorityToken>()).GetRoots();
        HttpResponseMessage response = Json(HttpStatusCode.OK, Encoding.UTF8.GetString(roots.Body.Span));
        response.Headers.Add(CertificateAuthorityApi.IndexHeader, index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return response;
    }

    private static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    private static string Thumbprint(MeshCertificateAuthority authority) => authority.ActiveRoot.Certificate.Thumbprint;

    private static List<string> Anchors(MeshCaClient client)
    {
        var list = new List<string>();
        foreach (TrustDomain domain in client.Current.TrustDomains)
        {
            if (client.Current.TryGetRoots(domain, out IReadOnlyList<X509Certificate2> roots))
            {
                list.AddRange(roots.Select(c => c.Thumbprint));
            }
        }

        return list;
    }

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    // A guard against hangs, not a timing assertion.
    private static async Task Eventually(Func<bool> condition, Func<string> describe)
    {
        for (int i = 0; i < 1000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.That(condition(), Is.True, describe());
    }

    /// <summary>Answers root queries and signing requests from queues; an exhausted roots queue blocks like a quiet blocking query.</summary>
    private sealed class ScriptedCa : HttpMessageHandler
    {
        public Queue<object> Roots { get; } = new();

        public Queue<HttpResponseMessage> Sign { get; } = new();

        public List<string> RootQueries { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath == CertificateAuthorityApi.SignPath)
            {
                lock (Sign)
                {
                    return Sign.Dequeue();
                }
            }

            object? next;
            lock (Roots)
            {
                RootQueries.Add(request.RequestUri.Query);
                Roots.TryDequeue(out next);
            }

            switch (next)
            {
                case HttpResponseMessage response:
                    return response;
                case Exception ex:
                    throw ex;
                default:
                    await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
                    throw new OperationCanceledException(cancellationToken);
            }
        }
    }
}
