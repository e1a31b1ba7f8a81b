using System.Net;
using System.Net.Sockets;
using Mesh.Consul.TestAgent;

namespace Mesh.Consul.Tests;

/// <summary>
/// A running Consul sidecar (<c>Mesh.Host --role sidecar --consul ADDR --sidecar-for SERVICE</c>, a real process) follows its own
/// <c>connect-proxy</c> registration: upstreams added to it apply without a restart, as Consul's proxies do.
/// </summary>
public sealed class SidecarUpstreamChangeTests
{
    [Test]
    public async Task An_upstream_added_to_the_registration_of_a_running_sidecar_listens_and_carries_a_call_to_its_destination()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.DefaultIntentionPolicy = "deny";
        agent.SetIntentions([new TestIntention("web", "api", "allow")]);
        using var apiApp = EchoApp.Start();
        using var webApp = EchoApp.Start();
        int apiPublic = HostProcess.FreePort();
        int webPublic = HostProcess.FreePort();
        RegisterWithSidecar(agent, "api", EchoApp.Port(apiApp), apiPublic);
        RegisterWithSidecar(agent, "web", EchoApp.Port(webApp), webPublic);
        var apiHealth = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());
        var webHealth = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());
        using HostProcess api = HostProcess.Start("--role", "sidecar", "--consul", agent.Address, "--sidecar-for", "api", "--health", apiHealth.ToString());
        using HostProcess web = HostProcess.Start("--role", "sidecar", "--consul", agent.Address, "--sidecar-for", "web", "--health", webHealth.ToString());
        await api.WaitReadyAsync(apiHealth);
        await web.WaitReadyAsync(webHealth);

        int upstreamPort = HostProcess.FreePort();
        RegisterWithSidecar(agent, "web", EchoApp.Port(webApp), webPublic, new TestUpstream("api", upstreamPort));
        byte[] echoed = await CallWhenListeningAsync(new IPEndPoint(IPAddress.Loopback, upstreamPort), "hello"u8.ToArray(), web);

        Assert.Multiple(() =>
        {
            Assert.That(echoed, Is.EqualTo("hello"u8.ToArray()), web.Output);
            Assert.That(web.HasExited, Is.False, "no restart");
            Assert.That(web.Output, Does.Contain("upstream api@dc1 on 127.0.0.1:" + upstreamPort));
        });
    }

    private static void RegisterWithSidecar(ConsulTestAgent agent, string service, int appPort, int publicPort, params TestUpstream[] upstreams)
    {
        agent.Register(new TestService(service, service, appPort));
        agent.Register(new TestService(service + "-sidecar-proxy", service + "-sidecar-proxy", publicPort)
        {
            Kind = "connect-proxy",
            Proxy = new TestProxy(service, appPort) { DestinationServiceId = service, Upstreams = upstreams },
        });
    }

    // The change reaches the sidecar within one blocking round, and the new destination's endpoints within the next: retry a
    // refused or reset call until then, failing with the host's output when it never works.
    private static async Task<byte[]> CallWhenListeningAsync(IPEndPoint upstream, byte[] payload, HostProcess host)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await client.ConnectAsync(upstream, timeout.Token);
                await client.SendAsync(payload, SocketFlags.None, timeout.Token);
                client.Shutdown(SocketShutdown.Send);
                using var received = new MemoryStream();
                var buffer = new byte[256];
                int read;
                while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
                {
                    received.Write(buffer, 0, read);
                }

                if (received.Length == payload.Length)
                {
                    return received.ToArray();
                }
            }
            catch (SocketException) when (!timeout.IsCancellationRequested)
            {
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"No call went through the new upstream port {upstream.Port} within 30 s:\n{host.Output}");
            }

            await Task.Delay(50, CancellationToken.None);
        }
    }
}
