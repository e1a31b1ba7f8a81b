using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Mesh.EndToEnd.Tests.Support;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>
/// The CA role killed and started again under traffic, all as real host processes: nothing is reset, no renewal storm, and a
/// sidecar started afterwards still talks to the ones that never restarted (the root survived in the CA's data directory).
/// </summary>
[NonParallelizable]
public sealed partial class CaRestartTests
{
    private const string TrustDomain = "11111111-2222-3333-4444-555555555555.consul";

    [Test]
    public async Task Restarting_the_ca_under_traffic_resets_nothing_and_causes_no_renewal_storm()
    {
        string directory = Path.Combine(Path.GetTempPath(), "mesh-ca-restart-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var owned = new List<HostProcess>();
        try
        {
            await using var app = TestApplication.Start();
            await using var dashboardApp = TestApplication.Start();   // each sidecar's readiness includes its app's check
            var ca = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());
            var dashboardPublic = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());
            var upstream = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());
            var countingPublic = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());
            var dashboardHealth = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());
            var countingHealth = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());
            string config = Path.Combine(directory, "mesh.json");
            string dataDirectory = Path.Combine(directory, "ca-data");
            File.WriteAllText(config, $$"""
                {
                  "TrustDomain": "{{TrustDomain}}",
                  "CA": { "Address": "http://{{ca}}", "Tokens": [ { "Service": "dashboard", "Token": "dashboard-token" }, { "Service": "counting", "Token": "counting-token" } ] },
                  "DefaultIntentionPolicy": "deny",
                  "Datacenters": [ { "Name": "dc1" } ],
                  "Services": [
                    {
                      "ID": "dashboard-dc1", "Name": "dashboard", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": {{dashboardApp.EndPoint.Port}},
                      "Connect": { "SidecarService": { "Address": "127.0.0.1", "Port": {{dashboardPublic.Port}}, "Proxy": { "Upstreams": [
                        { "DestinationName": "counting", "Datacenter": "dc1", "LocalBindAddress": "127.0.0.1", "LocalBindPort": {{upstream.Port}} }
                      ] } } }
                    },
                    {
                      "ID": "counting-dc1", "Name": "counting", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": {{app.EndPoint.Port}},
                      "Connect": { "SidecarService": { "Address": "127.0.0.1", "Port": {{countingPublic.Port}} } }
                    }
                  ],
                  "Intentions": [ { "Kind": "service-intentions", "Name": "counting", "Sources": [ { "Name": "dashboard", "Action": "allow" } ] } ]
                }
                """);

            // The CA logs each leaf it signs (Debug): the count of sign requests is read from its output.
            var caEnvironment = new Dictionary<string, string?> { ["Logging__LogLevel__Mesh.Tls.Authority.MeshCertificateAuthority"] = "Debug" };
            HostProcess StartCa() => Own(owned, HostProcess.Start("ca", caEnvironment, "--role", "ca", "--config", config, "--data-dir", dataDirectory));
            HostProcess StartCounting() => Own(owned, HostProcess.Start("sidecar-counting", null,
                "--role", "sidecar", "--config", config, "--service", "counting-dc1", "--token", "counting-token", "--health", countingHealth.ToString()));

            HostProcess firstCa = StartCa();
            await firstCa.WaitReadyAsync(ca);
            HostProcess counting = StartCounting();
            HostProcess dashboard = Own(owned, HostProcess.Start("sidecar-dashboard", null,
                "--role", "sidecar", "--config", config, "--service", "dashboard-dc1", "--token", "dashboard-token", "--health", dashboardHealth.ToString()));
            await counting.WaitReadyAsync(countingHealth);
            await dashboard.WaitReadyAsync(dashboardHealth);

            // Traffic: one long-lived connection, and fresh connections throughout.
            using var longLived = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await longLived.ConnectAsync(upstream);
            await EchoAsync(longLived, 1);
            Assert.That(await FreshRoundTripAsync(upstream, 2), Is.True, "traffic flows before the restart");

            firstCa.Kill();
            Assert.That(await FreshRoundTripAsync(upstream, 3), Is.True, "new connections flow while the CA is down");
            await EchoAsync(longLived, 4);

            HostProcess secondCa = StartCa();
            await secondCa.WaitReadyAsync(ca);
            Assert.That(await secondCa.WaitForOutputAsync("Loaded the CA root", TimeSpan.FromSeconds(5)), Is.True,
                "the restarted CA loads its root from the data directory");

            // Let the sidecars' root watches reconnect to the restarted CA and read its roots.
            for (int i = 0; i < 30; i++)
            {
                Assert.That(await FreshRoundTripAsync(upstream, (byte)(10 + i)), Is.True, $"a new connection failed after the CA restarted (round {i})");
                await EchoAsync(longLived, (byte)(50 + i));
                await Task.Delay(100);
            }

            // A sidecar restarted now gets its leaf from the restarted CA: its peers, which never restarted, must still trust it.
            counting.Kill();
            counting = StartCounting();
            await counting.WaitReadyAsync(countingHealth);
            Assert.That(await FreshRoundTripAsync(upstream, 99), Is.True,
                $"the dashboard cannot reach the restarted counting sidecar:\n{dashboard.Output}\n{counting.Output}");

            // Two sidecars at start, one restarted: three leaves, and the sidecar that stayed up never had to renew. A new root would
            // make every sidecar renew; a storm signs hundreds.
            int signed = SignedLeaf().Count(firstCa.Output) + SignedLeaf().Count(secondCa.Output);
            Assert.Multiple(() =>
            {
                Assert.That(signed, Is.EqualTo(3), $"the CA signed {signed} leaves:\n{secondCa.Output}");
                Assert.That(RenewedLeaf().Count(dashboard.Output), Is.EqualTo(1), $"the dashboard renewed its leaf:\n{dashboard.Output}");
                Assert.That(dashboard.Output, Does.Not.Contain("Leaf renewal failed"));
            });
        }
        finally
        {
            foreach (HostProcess process in owned)
            {
                process.Dispose();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static HostProcess Own(List<HostProcess> owned, HostProcess process)
    {
        owned.Add(process);
        return process;
    }

    private static async Task EchoAsync(Socket socket, byte value)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        byte[] message = [value, (byte)(value + 1)];
        await socket.SendAsync(message, SocketFlags.None, timeout.Token);
        var reply = new byte[2];
        int read = 0;
        while (read < 2)
        {
            int n = await socket.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, timeout.Token);
            Assert.That(n, Is.GreaterThan(0), "the long-lived connection was reset");
            read += n;
        }

        Assert.That(reply, Is.EqualTo(message));
    }

    private static async Task<bool> FreshRoundTripAsync(IPEndPoint upstream, byte value)
    {
        try
        {
            byte[] reply = await LifeOfAPacketTests.RoundTripAsync(upstream, [value, value]);
            return reply.Length == 2 && reply[0] == value && reply[1] == value;
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    [GeneratedRegex("Signed a leaf for")]
    private static partial Regex SignedLeaf();

    [GeneratedRegex("Renewed the leaf for")]
    private static partial Regex RenewedLeaf();
}
