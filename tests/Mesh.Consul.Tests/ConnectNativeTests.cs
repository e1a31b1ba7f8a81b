using System.Net;
using System.Net.Sockets;
using Mesh.Consul.TestAgent;
using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;
using Microsoft.Extensions.DependencyInjection;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

/// <summary><c>AddMesh(o => o.UseConsul(…))</c>: Connect-native services whose leaf, roots, catalog and intentions come from the agent.</summary>
public sealed class ConnectNativeTests
{
    [Test]
    public async Task Two_native_services_talk_when_an_intention_allows_and_the_reverse_call_is_reset()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.DefaultIntentionPolicy = "deny";
        agent.SetIntentions([new TestIntention("web", "api", "allow")]);
        await using ServiceProvider apiHost = NativeService(agent, "api", upstream: "web");
        await using ServiceProvider webHost = NativeService(agent, "web", upstream: "api");
        MeshService api = apiHost.GetRequiredService<MeshService>();
        MeshService web = webHost.GetRequiredService<MeshService>();
        await api.StartAsync(Timeout());
        await web.StartAsync(Timeout());
        await using MeshListener apiListener = api.Listen(new IPEndPoint(IPAddress.Loopback, 0));
        await using MeshListener webListener = web.Listen(new IPEndPoint(IPAddress.Loopback, 0));
        agent.Register(new TestService("api-1", "api", apiListener.LocalEndPoint.Port) { ConnectNative = true });
        agent.Register(new TestService("web-1", "web", webListener.LocalEndPoint.Port) { ConnectNative = true });

        Assert.Multiple(() =>
        {
            Assert.That(api.Ready.IsCompletedSuccessfully, Is.True);
            Assert.That(api.TrustDomain, Is.EqualTo(agent.TrustDomain), "the trust domain of the agent's leaf");
            Assert.That(web.CurrentLeaf!.Id, Is.EqualTo(web.SpiffeId));
        });

        // Allowed: web → api, the catalog from the agent gives api's address, the intention from the agent admits web.
        Task<MeshStream> accepted = apiListener.AcceptAsync(Timeout()).AsTask();
        await using (MeshStream call = await DialWhenListedAsync(web, "api"))
        {
            await using MeshStream server = await accepted;
            await call.WriteAsync("ping"u8.ToArray(), Timeout());
            byte[] received = new byte[4];
            await server.ReadExactlyAsync(received, Timeout());
            Assert.That(received, Is.EqualTo("ping"u8.ToArray()));
            Assert.That(server.Peer, Is.EqualTo(web.SpiffeId));
        }

        // Denied: api → web matches no intention and the agent's default is deny, so web resets the connection.
        await using MeshStream refusedCall = await DialWhenListedAsync(api, "web");
        MeshConnectionException? refused = Assert.ThrowsAsync<MeshConnectionException>(async () =>
        {
            await refusedCall.WriteAsync(new byte[] { 1 }, Timeout());
            _ = await refusedCall.ReadAsync(new byte[16], Timeout());
        });
        Assert.That(refused!.Error, Is.EqualTo(MeshConnectionError.RefusedByPeer));
    }

    [Test]
    public async Task A_token_without_service_write_fails_start_with_the_permission_named()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Forbid("/v1/agent/connect/ca/leaf/");
        await using ServiceProvider host = NativeService(agent, "api");
        MeshService api = host.GetRequiredService<MeshService>();

        ConsulPermissionDeniedException? denied = Assert.ThrowsAsync<ConsulPermissionDeniedException>(async () => await api.StartAsync(Timeout()));
        Assert.That(denied!.Message, Does.Contain("service:write"));
        Assert.That(api.Ready.IsFaulted, Is.True);
    }

    private static ServiceProvider NativeService(ConsulTestAgent agent, string name, string? upstream = null)
    {
        var services = new ServiceCollection();
        services.AddMesh(o =>
        {
            o.Service = name;
            o.Datacenter = "dc1";
            if (upstream is not null)
            {
                o.Upstreams.Add(new MeshUpstream { Name = upstream });
            }

            o.UseConsul(FastOptions(agent));
        });
        return services.BuildServiceProvider();
    }
}
