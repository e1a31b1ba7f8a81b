using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Mesh.AspNetCore;
using Mesh.ControlPlane.File;
using Mesh.Diagnostics;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.Authority.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.EndToEnd.Tests.CertificateAuthority;

/// <summary>
/// The CA role's HTTP API on loopback Kestrel, as samples/Mesh.Host maps it, with every log event kept so tests can assert that
/// nothing was issued and that no token reached a log.
/// </summary>
internal sealed class CaApiServer : IAsyncDisposable
{
    public const string TrustDomainName = "11111111-2222-3333-4444-555555555555.consul";

    private readonly WebApplication _app;
    private readonly HttpClient _http;

    private CaApiServer(WebApplication app, Uri address, MeshCertificateAuthority ca, CertificateAuthorityApi api, CapturedLogs logs, SteppedClock clock)
    {
        _app = app;
        Address = address;
        Ca = ca;
        Api = api;
        Logs = logs;
        Clock = clock;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri Address { get; }

    public MeshCertificateAuthority Ca { get; }

    public CertificateAuthorityApi Api { get; }

    public CapturedLogs Logs { get; }

    public SteppedClock Clock { get; }

    /// <summary>How many certificates the CA issued.</summary>
    public int Issued => Logs.WithId(MeshLogEvents.CaSigned).Count();

    public static string Spiffe(string path) => $"spiffe://{TrustDomainName}{path}";

    public static Task<CaApiServer> StartAsync(params CertificateAuthorityToken[] tokens) =>
        StartAsync((ca, clock, logs) => new CertificateAuthorityApi(ca, tokens, timeProvider: clock, logger: logs.CreateLogger<CertificateAuthorityApi>()));

    public static Task<CaApiServer> StartAsync(ControlPlaneFile file) =>
        StartAsync((ca, clock, logs) => new CertificateAuthorityApi(ca, file, clock, logs.CreateLogger<CertificateAuthorityApi>()));

    private static async Task<CaApiServer> StartAsync(Func<MeshCertificateAuthority, SteppedClock, CapturedLogs, CertificateAuthorityApi> createApi)
    {
        var logs = new CapturedLogs();
        var clock = new SteppedClock();
        var options = new MeshCaOptions { TrustDomain = TrustDomain.Parse(TrustDomainName), Datacenter = "dc1" };
        var ca = new MeshCertificateAuthority(options, logger: logs.CreateLogger<MeshCertificateAuthority>());
        CertificateAuthorityApi api = createApi(ca, clock, logs);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        app.MapMeshCertificateAuthority(api);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CaApiServer(app, new Uri(address), ca, api, logs, clock);
    }

    /// <summary>Sends <c>{"CSR": pem}</c> with a token.</summary>
    public Task<CaAnswer> SignAsync(string? token, string csrPem) =>
        PostAsync(token, JsonSerializer.Serialize(new Dictionary<string, string> { ["CSR"] = csrPem }));

    /// <summary>Sends any body as the signing request.</summary>
    public async Task<CaAnswer> PostAsync(string? token, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, CertificateAuthorityApi.SignPath)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation(CertificateAuthorityApi.TokenHeader, token);
        }

        using HttpResponseMessage response = await _http.SendAsync(request);
        return new CaAnswer((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Every log message and structured value, to search for secrets.</summary>
    public string AllLogText() =>
        string.Join("\n", Logs.Events.Select(e => e.Message + " " + string.Join(" ", e.State.Values)));

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(2)).Token);
        await _app.DisposeAsync();
        Api.Dispose();
        Ca.Dispose();
    }
}

/// <summary>A CA API answer: status, raw body, and the error's rule where the body is an error.</summary>
internal sealed record CaAnswer(int Status, string Body)
{
    public string? Rule => TryRead("Rule");

    public string? Error => TryRead("Error");

    private string? TryRead(string property)
    {
        try
        {
            using var document = JsonDocument.Parse(Body);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(property, out JsonElement value)
                && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public override string ToString() => $"{Status} {Body}";
}
