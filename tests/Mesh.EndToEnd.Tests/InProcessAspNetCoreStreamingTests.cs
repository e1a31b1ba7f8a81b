using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Tls.Authority;
using Mesh.Tls.InProcess;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// Bodies through a <c>UseMesh()</c> endpoint as an application sees them, in HTTP/1.1 and HTTP/2: large and many-write
/// responses arrive whole and in order, uploads are echoed intact, a flushed part reaches the caller while the handler still
/// waits, and a keep-alive connection carries many chunked responses back to back.
/// </summary>
public sealed class InProcessAspNetCoreStreamingTests
{
    private static readonly TrustDomain Domain = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");

    [Test]
    public async Task Bodies_cross_a_mesh_endpoint_whole_in_order_and_flushed_parts_arrive_before_the_rest()
    {
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Domain, Datacenter = "dc1" });
        var catalog = new InMemoryServiceCatalog();
        var intentions = new InMemoryIntentionSource();
        intentions.Set(new IntentionSet([], IntentionAction.Allow));
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var endpoint = (IPEndPoint)probe.LocalEndPoint!;
        probe.Dispose();
        catalog.Replace([new ServiceEndpoint(new ServiceIdentity(new ServiceName("counting"), "dc1"), endpoint)], []);

        // Many writes of uneven sizes, each flushed: the output side must keep order across records and flushes.
        byte[] large = RandomNumberGenerator.GetBytes((1024 * 1024) + 4321);
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        AddMesh(builder.Services, ca, catalog, intentions, "counting");
        builder.WebHost.ConfigureKestrel(k => k.Listen(endpoint, l => l.UseMesh()));
        await using WebApplication server = builder.Build();
        server.MapGet("/large", async (HttpContext c) =>
        {
            int offset = 0;
            for (int size = 1; offset < large.Length; size = (size * 7 % 40_000) + 1)
            {
                int n = Math.Min(size, large.Length - offset);
                await c.Response.Body.WriteAsync(large.AsMemory(offset, n));
                await c.Response.Body.FlushAsync();
                offset += n;
            }
        });
        server.MapPost("/echo", async (HttpContext c) => await c.Request.Body.CopyToAsync(c.Response.Body));
        server.MapGet("/stream", async (HttpContext c) =>
        {
            await c.Response.WriteAsync("first;");
            await c.Response.Body.FlushAsync();
            await released.Task;
            await c.Response.WriteAsync("second");
        });
        server.MapGet("/count", () => "{\"count\":1}");
        await server.StartAsync();

        var clientServices = new ServiceCollection();
        AddMesh(clientServices, ca, catalog, intentions, "dashboard");
        await using ServiceProvider client = clientServices.BuildServiceProvider();
        MeshService dashboard = client.GetRequiredService<MeshService>();
        await dashboard.StartAsync();
        try
        {
            foreach (Version version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
            {
                using var http = new HttpClient(dashboard.CreateHttpMessageHandler())
                {
                    DefaultRequestVersion = version,
                    DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
                };

                byte[] received = await http.GetByteArrayAsync(new Uri("http://counting/large"));
                Assert.That(SHA256.HashData(received), Is.EqualTo(SHA256.HashData(large)), $"HTTP/{version}: {received.Length} of {large.Length} bytes, in order");

                byte[] upload = RandomNumberGenerator.GetBytes(300_001);
                using (HttpResponseMessage echoed = await http.PostAsync(new Uri("http://counting/echo"), new ByteArrayContent(upload)))
                {
                    Assert.That(await echoed.Content.ReadAsByteArrayAsync(), Is.EqualTo(upload), $"HTTP/{version}: the upload came back intact");
                }

                released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (HttpResponseMessage streaming = await http.GetAsync(new Uri("http://counting/stream"), HttpCompletionOption.ResponseHeadersRead))
                {
                    await using Stream body = await streaming.Content.ReadAsStreamAsync();
                    byte[] first = new byte[6];
                    // The handler is still waiting for the release: these bytes can only come from its flush.
                    await body.ReadExactlyAsync(first).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                    Assert.That(first, Is.EqualTo("first;"u8.ToArray()), $"HTTP/{version}: a flushed part arrives while the handler waits");
                    released.SetResult();
                    using var reader = new StreamReader(body);
                    Assert.That(await reader.ReadToEndAsync(), Is.EqualTo("second"));
                }

                // Keep-alive: one connection carries many small chunked responses back to back.
                for (int i = 0; i < 300; i++)
                {
                    using HttpResponseMessage response = await http.GetAsync(new Uri("http://counting/count"));
                    string text = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.OK || text != "{\"count\":1}" || response.Version != version)
                    {
                        Assert.Fail($"HTTP/{version} request {i}: {(int)response.StatusCode} HTTP/{response.Version} '{text}'");
                    }
                }
            }
        }
        finally
        {
            released.TrySetResult();
            await server.StopAsync();
        }
    }

    private static void AddMesh(IServiceCollection services, MeshCertificateAuthority ca, IServiceCatalog catalog, IIntentionSource intentions, string name)
    {
        services.AddSingleton<ILeafSource>(new InMemoryLeafSource(ca.IssueLeaf(new ServiceIdentity(new ServiceName(name), "dc1").ToSpiffeId(Domain))));
        services.AddSingleton(ca.TrustBundleSource);
        services.AddSingleton(catalog);
        services.AddSingleton(intentions);
        services.AddMesh(o =>
        {
            o.Service = name;
            o.Datacenter = "dc1";
            o.TrustDomain = Domain.Name;
            // Leaf and bundle sources are registered above, so no CA client is created.
            o.CertificateAuthorityAddress = new Uri("http://127.0.0.1:1");
            o.Token = "unused";
        });
    }
}
