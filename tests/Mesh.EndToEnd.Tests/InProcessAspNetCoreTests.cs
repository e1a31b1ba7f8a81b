using System.Net;
using System.Net.Sockets;
using Mesh.AspNetCore;
using Mesh.ControlPlane;
using Mesh.ControlPlane.File;
using Mesh.Diagnostics;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The whole in-process path as an application uses it: the CA role over HTTP, a control-plane file, <c>AddMesh</c> in two
/// hosts (leaves by CSR, never a local CA key), a Kestrel endpoint with <c>UseMesh()</c> and L7 intentions, and an
/// <c>IHttpClientFactory</c> client whose <c>http://counting/</c> goes over the mesh in HTTP/1.1 and HTTP/2.
/// </summary>
public sealed class InProcessAspNetCoreTests
{
    private const string TrustDomainName = "11111111-2222-3333-4444-555555555555.consul";

    [Test]
    public async Task HttpClient_reaches_a_Kestrel_mesh_service_over_http1_and_http2_with_L7_allow_and_deny_per_path()
    {
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = TrustDomain.Parse(TrustDomainName), Datacenter = "dc1" });
        await using CaHttpServer caServer = await CaHttpServer.StartAsync(ca, [CertificateAuthorityToken.ForService("t-counting", new ServiceName("counting")), CertificateAuthorityToken.ForService("t-dashboard", new ServiceName("dashboard"))]);
        int port = MeshHostProcess.FreePort();
        using var file = new TempFile(ControlPlaneJson(caServer.Address, port));
        var serverLogs = new CapturedLogs();

        WebApplicationBuilder serverBuilder = WebApplication.CreateSlimBuilder();
        serverBuilder.Services.AddSingleton<ILoggerFactory>(serverLogs);
        serverBuilder.Services.AddMesh(o =>
        {
            o.Service = "counting";
            o.Datacenter = "dc1";
            o.ControlPlaneFile = file.Path;
            o.Token = "t-counting";
        });
        serverBuilder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseMesh()));
        await using WebApplication server = serverBuilder.Build();
        server.UseMeshAuthorization();
        server.MapGet("/api/count", (HttpContext c) => $"{c.Request.Protocol} from {c.Features.Get<IMeshPeerFeature>()!.Peer}");
        server.MapGet("/admin", () => "secret");
        await server.StartAsync();

        HostApplicationBuilder clientBuilder = Host.CreateApplicationBuilder();
        clientBuilder.Logging.ClearProviders();
        clientBuilder.Services.AddMesh(o =>
        {
            o.Service = "dashboard";
            o.Datacenter = "dc1";
            o.ControlPlaneFile = file.Path;
            o.Upstreams.Add(new MeshUpstream { Name = "counting" });
        });
        clientBuilder.Services.AddHttpClient("counting").AddMeshHandler();
        clientBuilder.Services.AddHttpClient("counting-h2").AddMeshHandler(HttpVersion.Version20);
        using IHost client = clientBuilder.Build();
        await client.StartAsync();
        try
        {
            MeshService dashboard = client.Services.GetRequiredService<MeshService>();
            Assert.That(dashboard.IsReady, "the host finished starting only once the first leaf was issued");
            Assert.That(dashboard.CurrentLeaf!.Certificate.Issuer, Is.EqualTo(ca.ActiveRoot.Certificate.Subject), "the leaf came from the CA over HTTP by CSR");
            IHttpClientFactory factory = client.Services.GetRequiredService<IHttpClientFactory>();

            foreach ((string name, Version version, string protocol) in new[] { ("counting", HttpVersion.Version11, "HTTP/1.1"), ("counting-h2", HttpVersion.Version20, "HTTP/2") })
            {
                HttpClient http = factory.CreateClient(name);
                for (int i = 0; i < 3; i++)
                {
                    using HttpResponseMessage ok = await http.GetAsync(new Uri("http://counting/api/count"));
                    string body = await ok.Content.ReadAsStringAsync();
                    Assert.Multiple(() =>
                    {
                        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
                        Assert.That(ok.Version, Is.EqualTo(version));
                        Assert.That(body, Is.EqualTo($"{protocol} from {dashboard.SpiffeId}"));
                    });
                }

                using HttpResponseMessage denied = await http.GetAsync(new Uri("http://counting/admin"));
                Assert.Multiple(async () =>
                {
                    Assert.That(denied.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
                    Assert.That(await denied.Content.ReadAsStringAsync(), Does.StartWith("RBAC: access denied").And.Contain("dashboard"));
                });
            }

            LogEvent logged = await serverLogs.WaitForAsync(MeshLogEvents.InProcessRequestDenied);
            Assert.That(logged["Target"], Is.EqualTo("/admin"));
            Assert.That(serverLogs.WithId(MeshLogEvents.AuthorizationDenied), Is.Empty, "an L7 intention lets the connection in; requests are decided one by one");
        }
        finally
        {
            await client.StopAsync();
            await server.StopAsync();
        }
    }

    [Test]
    public async Task Kestrel_resets_a_caller_the_intentions_deny_and_a_caller_outside_the_mesh()
    {
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = TrustDomain.Parse(TrustDomainName), Datacenter = "dc1" });
        await using CaHttpServer caServer = await CaHttpServer.StartAsync(ca, [CertificateAuthorityToken.ForService("t-counting", new ServiceName("counting"))]);
        int port = MeshHostProcess.FreePort();
        using var file = new TempFile(ControlPlaneJson(caServer.Address, port));
        var serverLogs = new CapturedLogs();
        WebApplicationBuilder serverBuilder = WebApplication.CreateSlimBuilder();
        serverBuilder.Services.AddSingleton<ILoggerFactory>(serverLogs);
        serverBuilder.Services.AddMesh(o => { o.Service = "counting"; o.Datacenter = "dc1"; o.ControlPlaneFile = file.Path; });
        serverBuilder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseMesh()));
        await using WebApplication server = serverBuilder.Build();
        server.UseMeshAuthorization();
        server.MapGet("/api/count", () => "1");
        await server.StartAsync();
        try
        {
            // "intruder" holds a valid leaf of this mesh, but no intention lets it call counting (default deny).
            using var controlPlane = ControlPlaneFile.Open(file.Path, TimeSpan.Zero);
            var intruderOptions = new MeshOptions { Service = "intruder", Datacenter = "dc1", TrustDomain = TrustDomainName, ControlPlaneFile = file.Path };
            await using var intruder = new MeshService(intruderOptions,
                new InMemoryLeafSource(ca.IssueLeaf(new ServiceIdentity(new ServiceName("intruder"), "dc1").ToSpiffeId(ca.TrustDomain))),
                ca.TrustBundleSource, controlPlane, controlPlane);
            await intruder.StartAsync();
            using var http = new HttpClient(intruder.CreateHttpMessageHandler());

            HttpRequestException? failure = Assert.ThrowsAsync<HttpRequestException>(async () => await http.GetAsync(new Uri("http://counting/api/count")));
            MeshConnectionException? refused = FindInner<MeshConnectionException>(failure);
            Assert.That(refused?.Error, Is.EqualTo(MeshConnectionError.RefusedByPeer), failure!.ToString());
            Assert.That(refused!.Message, Does.Contain("counting@dc1"));
            LogEvent denied = await serverLogs.WaitForAsync(MeshLogEvents.AuthorizationDenied);
            Assert.That(denied["Peer"], Does.EndWith("/svc/intruder"));

            // Plain HTTP, no mesh certificate: refused in the handshake, never served.
            using var plain = new HttpClient();
            Assert.That(async () => await plain.GetAsync(new Uri($"http://127.0.0.1:{port}/api/count")), Throws.InstanceOf<HttpRequestException>());
            await serverLogs.WaitForAsync(MeshLogEvents.PeerRejected);
        }
        finally
        {
            await server.StopAsync();
        }
    }

    [Test]
    public void Invalid_options_fail_at_start_with_messages_naming_each_option()
    {
        var services = new ServiceCollection();
        services.AddMesh(o =>
        {
            o.Service = "bad.name";
            o.TrustDomain = "not a domain";
            o.ConnectTimeout = TimeSpan.Zero;
            o.Upstreams.Add(new MeshUpstream());
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException? failure = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<MeshOptions>>().Value);
        Assert.That(failure!.Failures, Has.Some.Contains("MeshOptions.Datacenter is required")
            .And.Some.Contains("MeshOptions.Service: The service name 'bad.name'")
            .And.Some.Contains("MeshOptions.TrustDomain: 'not a domain'")
            .And.Some.Contains("MeshOptions.ConnectTimeout")
            .And.Some.Contains("MeshOptions.Upstreams[].Name is required")
            .And.Some.Contains("set ControlPlaneFile"));
    }

    private static T? FindInner<T>(Exception? exception) where T : Exception
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is T match)
            {
                return match;
            }
        }

        return null;
    }

    private static string ControlPlaneJson(Uri ca, int countingPort) => $$"""
        {
          "TrustDomain": "{{TrustDomainName}}",
          "CA": { "Address": "{{ca}}", "Tokens": [{ "Token": "t-counting", "Service": "counting" }, { "Token": "t-dashboard", "Service": "dashboard" }] },
          "Datacenters": [ { "Name": "dc1" } ],
          "Services": [
            { "Name": "counting", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": {{countingPort}}, "Connect": { "Native": true } },
            { "Name": "dashboard", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": 9, "Connect": { "Native": true } }
          ],
          "Intentions": [
            { "Kind": "service-intentions", "Name": "counting", "Sources": [
              { "Name": "dashboard", "Permissions": [ { "Action": "allow", "HTTP": { "PathPrefix": "/api/" } } ] } ] }
          ]
        }
        """;

    private sealed class TempFile : IDisposable
    {
        public TempFile(string content)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"mesh-{Guid.NewGuid():N}.json");
            File.WriteAllText(Path, content);
        }

        public string Path { get; }

        public void Dispose() => File.Delete(Path);
    }
}
