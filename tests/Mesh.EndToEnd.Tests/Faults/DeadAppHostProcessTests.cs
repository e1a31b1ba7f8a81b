using System.Net;
using System.Net.Sockets;
using System.Text;
using Mesh.EndToEnd.Tests.Support;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>
/// The sidecar of a dead application, as real Mesh.Host processes: its readiness turns 503 and callers keep succeeding on the
/// other instance; when the application is back, readiness is 200 again and the sidecar accepts connections.
/// </summary>
public sealed class DeadAppHostProcessTests
{
    [Test]
    public async Task A_killed_app_turns_its_sidecars_readiness_503_while_calls_keep_succeeding()
    {
        using var hosts = new AppHostProcesses();
        int ca = MeshHostProcess.FreePort(), upstream = MeshHostProcess.FreePort();
        int sidecarA = MeshHostProcess.FreePort(), sidecarB = MeshHostProcess.FreePort(), sidecarDashboard = MeshHostProcess.FreePort();
        int healthA = MeshHostProcess.FreePort(), healthB = MeshHostProcess.FreePort(), healthDashboard = MeshHostProcess.FreePort();
        await using EchoApp appA = EchoApp.Start();
        await using EchoApp appB = EchoApp.Start();
        hosts.WriteConfig($$"""
            {
              "TrustDomain": "{{TwoDatacenterMesh.TrustDomain.Name}}",
              "CA": { "Address": "http://127.0.0.1:{{ca}}", "Tokens": [ { "Service": "dashboard", "Token": "dashboard-token" }, { "Service": "counting", "Token": "counting-token" } ] },
              "DefaultIntentionPolicy": "deny",
              "Datacenters": [ { "Name": "dc1" } ],
              "Services": [
                { "ID": "dashboard-1", "Name": "dashboard", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": 9,
                  "Connect": { "SidecarService": { "Port": {{sidecarDashboard}}, "Proxy": { "Upstreams": [
                    { "DestinationName": "counting", "LocalBindAddress": "127.0.0.1", "LocalBindPort": {{upstream}} } ] } } } },
                { "ID": "counting-a", "Name": "counting", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": {{appA.EndPoint.Port}},
                  "Check": { "TCP": "127.0.0.1:{{appA.EndPoint.Port}}", "Interval": "300ms", "Timeout": "1s" },
                  "Connect": { "SidecarService": { "Port": {{sidecarA}} } } },
                { "ID": "counting-b", "Name": "counting", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": {{appB.EndPoint.Port}},
                  "Connect": { "SidecarService": { "Port": {{sidecarB}} } } }
              ],
              "Intentions": [ { "Kind": "service-intentions", "Name": "counting", "Sources": [ { "Name": "dashboard", "Action": "allow" } ] } ]
            }
            """);

        ExternalProcess caProcess = hosts.Start("--role", "ca");
        Assert.That(await MeshHostProcess.WaitForStatusAsync($"http://127.0.0.1:{ca}/health/ready", 200, caProcess, TimeSpan.FromSeconds(60)), Is.EqualTo(200), caProcess.Output);
        ExternalProcess a = hosts.Start("--role", "sidecar", "--service", "counting-a", "--token", "counting-token", "--health", $"127.0.0.1:{healthA}");
        ExternalProcess b = hosts.Start("--role", "sidecar", "--service", "counting-b", "--token", "counting-token", "--health", $"127.0.0.1:{healthB}");
        ExternalProcess dashboard = hosts.Start("--role", "sidecar", "--service", "dashboard-1", "--token", "dashboard-token", "--health", $"127.0.0.1:{healthDashboard}");
        string readyA = $"http://127.0.0.1:{healthA}/health/ready";
        foreach ((ExternalProcess process, int port) in new[] { (a, healthA), (b, healthB) })
        {
            Assert.That(await MeshHostProcess.WaitForStatusAsync($"http://127.0.0.1:{port}/health/ready", 200, process, TimeSpan.FromSeconds(60)), Is.EqualTo(200), process.Output);
        }

        // The dashboard's own application (port 9) does not exist: its sidecar is not ready, but its upstream listener serves.
        Assert.That(await MeshHostProcess.WaitForStatusAsync($"http://127.0.0.1:{healthDashboard}/health/live", 200, dashboard, TimeSpan.FromSeconds(60)), Is.EqualTo(200), dashboard.Output);
        var upstreamEndPoint = new IPEndPoint(IPAddress.Loopback, upstream);
        await WaitForListener(upstreamEndPoint);
        for (int i = 0; i < 6; i++)
        {
            Assert.That(await UpstreamCall.SendAsync(upstreamEndPoint, "warm" + i), Is.EqualTo("warm" + i), dashboard.Output);
        }

        Assert.That(appA.Served, Is.Positive, "both instances serve before the fault");

        await appA.KillAsync();
        Assert.That(await MeshHostProcess.WaitForStatusAsync(readyA, 503, a, TimeSpan.FromSeconds(10)), Is.EqualTo(503), "the dead app's sidecar is not ready");
        Assert.That(await MeshHostProcess.StatusAsync($"http://127.0.0.1:{healthA}/health/live"), Is.EqualTo(200), "but alive");
        Assert.That(await a.WaitForOutputAsync("fails its check", TimeSpan.FromSeconds(5)), Is.True, "the sidecar logs why: " + a.Output);
        Assert.That(await RefusesConnectionsAsync(new IPEndPoint(IPAddress.Loopback, sidecarA)), Is.True,
            "the dead app's sidecar refuses new connections before any handshake");
        int servedByB = appB.Served;
        for (int i = 0; i < 20; i++)
        {
            Assert.That(await UpstreamCall.SendAsync(upstreamEndPoint, "down" + i), Is.EqualTo("down" + i), $"call {i} while one app is dead");
        }

        Assert.That(appB.Served - servedByB, Is.EqualTo(20));

        appA.Restart();
        Assert.That(await MeshHostProcess.WaitForStatusAsync(readyA, 200, a, TimeSpan.FromSeconds(10)), Is.EqualTo(200), "ready again once the app is back");
        await WaitForListener(new IPEndPoint(IPAddress.Loopback, sidecarA));
        Assert.That(a.HasExited || b.HasExited || dashboard.HasExited, Is.False);
    }

    // Readiness turns 503 as the check fails; the listener closes right after. Waits (up to 5 s) until a connect is refused.
    private static async Task<bool> RefusesConnectionsAsync(IPEndPoint endPoint)
    {
        for (int i = 0; i < 50; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(endPoint);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    private static async Task WaitForListener(IPEndPoint endPoint)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(endPoint);
                return;
            }
            catch (SocketException) when (i < 100)
            {
                await Task.Delay(100);
            }
        }
    }
}
