using System.Net;
using System.Net.Sockets;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Tls.Authority;
using Mesh.Tls.InProcess;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// What an operator reads in the log of a <c>UseMesh()</c> endpoint: no Kestrel warning that contradicts how the endpoint
/// works (HTTP/2 is served there), and one line per refused caller that names the caller's address.
/// </summary>
public sealed class InProcessAspNetCoreLoggingTests
{
    private static readonly TrustDomain Domain = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");

    [Test]
    public async Task A_mesh_endpoint_starts_without_Kestrels_http2_warning_and_logs_a_plain_text_caller_once_with_its_address()
    {
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Domain, Datacenter = "dc1" });
        var logs = new CapturedLogs();
        await using WebApplication server = await StartMeshEndpointAsync(ca, logs);
        try
        {
            Assert.That(logs.Events.Where(e => e.Message.Contains("HTTP/2", StringComparison.Ordinal)).Select(e => $"{e.Category}: {e.Message}"), Is.Empty,
                "HTTP/2 is served on a mesh endpoint (prior knowledge inside the mesh TLS), so Kestrel must not say it is disabled");

            int port = new Uri(server.Urls.Single()).Port;
            using var caller = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await caller.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            string callerAddress = caller.LocalEndPoint!.ToString()!;
            await caller.SendAsync("GET / HTTP/1.1\r\nHost: counting\r\n\r\n"u8.ToArray());

            // The refusal is logged before the reset, so once the caller sees its connection end every line about it is written.
            byte[] buffer = new byte[256];
            try
            {
                while (await caller.ReceiveAsync(buffer) > 0)
                {
                }
            }
            catch (SocketException)
            {
            }

            LogEvent[] refused = [.. logs.WithId(MeshLogEvents.PeerRejected)];
            Assert.That(refused.Select(e => e.Message), Has.Exactly(1).Items, "one line per refused caller");
            Assert.That(refused[0]["InboundRemote"], Is.EqualTo(callerAddress), refused[0].Message);
        }
        finally
        {
            await server.StopAsync();
        }
    }

    [Test]
    public async Task A_caller_refused_by_a_mesh_endpoint_is_one_inbound_span_ending_in_error()
    {
        using var spans = new Diagnostics.SpanCollector();
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Domain, Datacenter = "dc1" });
        await using WebApplication server = await StartMeshEndpointAsync(ca, new CapturedLogs());
        try
        {
            int port = new Uri(server.Urls.Single()).Port;
            using var caller = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await caller.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            await caller.SendAsync("GET / HTTP/1.1\r\nHost: counting\r\n\r\n"u8.ToArray());

            IReadOnlyList<System.Diagnostics.Activity> inbound = await spans.WaitForAsync(
                MeshActivitySources.InboundConnection, s => s.GetTagItem("server.port") as int? == port);
            Assert.That(inbound, Has.Count.EqualTo(1), "one span per connection");
            Assert.That(inbound[0].Status, Is.EqualTo(System.Diagnostics.ActivityStatusCode.Error));
            Assert.That(inbound[0].GetTagItem("mesh.destination.service"), Is.EqualTo("counting"));
            Assert.That(inbound[0].GetTagItem("network.peer.port"), Is.EqualTo(((IPEndPoint)caller.LocalEndPoint!).Port));
        }
        finally
        {
            await server.StopAsync();
        }
    }

    [Test]
    public async Task A_caller_with_a_certificate_from_another_ca_is_logged_once_by_a_mesh_endpoint()
    {
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Domain, Datacenter = "dc1" });
        using var otherCa = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Domain, Datacenter = "dc1" });
        var logs = new CapturedLogs();
        await using WebApplication server = await StartMeshEndpointAsync(ca, logs);
        try
        {
            int port = new Uri(server.Urls.Single()).Port;
            var impostor = new Tls.MutualTls.MeshTlsFactory(
                new InMemoryLeafSource(otherCa.IssueLeaf(new ServiceIdentity(new ServiceName("web"), "dc1").ToSpiffeId(Domain))),
                new Tls.Validation.SvidValidator(ca.TrustBundleSource));
            using var caller = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await caller.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            await using var tls = new System.Net.Security.SslStream(new NetworkStream(caller, ownsSocket: false));

            // In TLS 1.3 the server judges this certificate after the caller's handshake ends: the refusal arrives on a read.
            Assert.That(async () =>
            {
                await impostor.AuthenticateAsClientAsync(tls, "counting", Tls.Validation.PeerAuthorizer.AnyValid, CancellationToken.None);
                await tls.WriteAsync("GET / HTTP/1.1\r\nHost: counting\r\n\r\n"u8.ToArray());
                while (await tls.ReadAsync(new byte[256]) > 0)
                {
                }
            }, Throws.InstanceOf<IOException>().Or.InstanceOf<System.Security.Authentication.AuthenticationException>());

            await logs.WaitForAsync(MeshLogEvents.PeerRejected, e => e["Reason"] is not null && e["Reason"]!.Contains("Untrusted", StringComparison.Ordinal));
            Assert.That(logs.WithId(MeshLogEvents.PeerRejected).Select(e => e.Message), Has.Exactly(1).Items, "one line per refused caller");
        }
        finally
        {
            await server.StopAsync();
        }
    }

    // A UseMesh() endpoint of "counting" on a free loopback port, every intention allowing, its log in `logs`.
    private static async Task<WebApplication> StartMeshEndpointAsync(MeshCertificateAuthority ca, CapturedLogs logs)
    {
        var intentions = new InMemoryIntentionSource();
        intentions.Set(new IntentionSet([], IntentionAction.Allow));
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddSingleton<ILoggerFactory>(logs);
        builder.Services.AddSingleton<ILeafSource>(new InMemoryLeafSource(ca.IssueLeaf(new ServiceIdentity(new ServiceName("counting"), "dc1").ToSpiffeId(Domain))));
        builder.Services.AddSingleton(ca.TrustBundleSource);
        builder.Services.AddSingleton<IServiceCatalog>(new InMemoryServiceCatalog());
        builder.Services.AddSingleton<IIntentionSource>(intentions);
        builder.Services.AddMesh(o =>
        {
            o.Service = "counting";
            o.Datacenter = "dc1";
            o.TrustDomain = Domain.Name;
            // Leaf and bundle sources are registered above, so no CA client is created.
            o.CertificateAuthorityAddress = new Uri("http://127.0.0.1:1");
            o.Token = "unused";
        });
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseMesh()));
        WebApplication server = builder.Build();
        server.MapGet("/", () => "never served in plain text");
        await server.StartAsync();
        return server;
    }
}
