using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Mesh.Consul.TestAgent;

namespace Mesh.Consul.Tests.EndToEnd;

/// <summary>
/// The life of a packet across two Consul datacenters: dashboard (dc1) calls counting (dc2) through its sidecar, dc1's mesh
/// gateway, dc2's mesh gateway and counting's sidecar, every piece a real Mesh.Host process configured only through the agents.
/// One body, run against federated test agents and against a real agent (<see cref="RealAgentTests"/>).
/// </summary>
[NonParallelizable]
public abstract class TwoDatacenterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private ConsulCluster? _cluster;
    private MeshTopology? _mesh;

    private ConsulCluster Cluster => _cluster!;

    private MeshTopology Mesh => _mesh!;

    [OneTimeSetUp]
    public async Task StartTheMeshAsync()
    {
        _cluster = await CreateClusterAsync();
        _mesh = await MeshTopology.StartAsync(_cluster);
    }

    [OneTimeTearDown]
    public async Task StopTheMeshAsync()
    {
        _mesh?.Dispose();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    // Each test starts from a healthy mesh in which dashboard may call counting, whatever the previous test left behind.
    [SetUp]
    public async Task AllowTheCallAsync()
    {
        if (Cluster.CannotStopAgents is null)
        {
            await Cluster.StartAgentsAsync();
        }

        await Cluster.SetIntentionAsync(Cluster.RemoteDatacenter, "dashboard", "counting", "allow");
        await EventuallyCallsAsync("the call before the test");
    }

    [Test]
    public async Task A_call_from_dashboards_upstream_port_reaches_counting_and_returns()
    {
        string? answer = await UpstreamCall.TryOnceAsync(Mesh.UpstreamPort, "how many?");

        Assert.That(answer, Is.EqualTo("how many?"), Mesh.Output);
        if (Cluster.Federated)
        {
            // Through both gateways, not around them: the caller's sidecar knows only its local gateway for dc2.
            Assert.That(Mesh.DashboardSidecar.Output, Does.Contain($"127.0.0.1:{Mesh.LocalGatewayLanPort}"), Mesh.Output);
        }
    }

    [Test]
    public async Task A_deny_intention_resets_new_connections_with_the_intention_logged_and_allow_lets_them_through_again()
    {
        string id = await Cluster.SetIntentionAsync(Cluster.RemoteDatacenter, "dashboard", "counting", "deny");

        await EventuallyAsync(async () => await UpstreamCall.TryOnceAsync(Mesh.UpstreamPort, "denied?") is null, "a new connection to be reset after the deny");
        string expectedId = id.Length > 0 ? id : "none (config entry)";
        string line = await Mesh.CountingSidecar.WaitForLineAsync(l => l.Contains("denied and reset", StringComparison.Ordinal), "the deny");
        Assert.That(line, Does.Contain($"intention ID {expectedId}, precedence 9"));
        Assert.That(line, Does.Contain("/svc/dashboard"));

        await Cluster.SetIntentionAsync(Cluster.RemoteDatacenter, "dashboard", "counting", "allow");
        await EventuallyCallsAsync("a new connection to pass after the allow");
    }

    [Test]
    public async Task A_leaf_rotated_by_the_agent_is_presented_to_new_connections_while_open_ones_keep_flowing()
    {
        IgnoreIf(Cluster.CannotRotateLeaf);
        using UpstreamCall open = await UpstreamCall.OpenAsync(Mesh.UpstreamPort);
        Assert.That(await open.TryEchoAsync("before"), Is.EqualTo("before"), Mesh.Output);
        string old = await Cluster.LeafSerialAsync(Cluster.RemoteDatacenter, "counting");
        using X509Certificate2 caller = await Cluster.LeafCertificateAsync(Cluster.LocalDatacenter, "dashboard");
        Assert.That(await CountingPresentsAsync(caller), Is.EqualTo(old), "the sidecar presents the agent's leaf");

        await Cluster.RotateLeafAsync(Cluster.RemoteDatacenter, "counting");
        string fresh = await Cluster.LeafSerialAsync(Cluster.RemoteDatacenter, "counting");

        Assert.That(fresh, Is.Not.EqualTo(old));
        await EventuallyAsync(async () => await CountingPresentsAsync(caller) == fresh, "counting's sidecar to present the renewed leaf");
        Assert.That(await open.TryEchoAsync("after"), Is.EqualTo("after"), "the connection opened before the rotation");
        Assert.That(await UpstreamCall.TryOnceAsync(Mesh.UpstreamPort, "new"), Is.EqualTo("new"), Mesh.Output);
    }

    [Test]
    public async Task Calls_keep_working_before_during_and_after_a_root_rotation()
    {
        using UpstreamCall open = await UpstreamCall.OpenAsync(Mesh.UpstreamPort);
        Assert.That(await open.TryEchoAsync("before"), Is.EqualTo("before"), Mesh.Output);
        string oldCounting = await Cluster.LeafSerialAsync(Cluster.RemoteDatacenter, "counting");
        string oldDashboard = await Cluster.LeafSerialAsync(Cluster.LocalDatacenter, "dashboard");

        await Cluster.RotateRootAsync();

        // Until both sidecars present leaves of the new root, every new call must still pass: the old root stays trusted.
        var failed = new List<int>();
        int calls = 0;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            calls++;
            if (await UpstreamCall.TryOnceAsync(Mesh.UpstreamPort, $"call {calls}") is null)
            {
                failed.Add(calls);
            }

            if (await BothPresentRenewedLeavesAsync(oldCounting, oldDashboard))
            {
                break;
            }

            if (clock.Elapsed > Patience)
            {
                Assert.Fail($"The sidecars did not present leaves of the new root within {Patience.TotalSeconds} s:\n{Mesh.Output}");
            }

            await Task.Delay(100);
        }

        Assert.That(failed, Is.Empty, $"calls that failed during the rotation (of {calls}):\n{Mesh.Output}");
        Assert.That(await UpstreamCall.TryOnceAsync(Mesh.UpstreamPort, "after"), Is.EqualTo("after"), Mesh.Output);
        Assert.That(await open.TryEchoAsync("still open"), Is.EqualTo("still open"), "the connection opened before the rotation");
    }

    [Test]
    public async Task With_the_agents_away_open_connections_flow_new_ones_are_admitted_the_outage_is_logged_once_and_changes_apply_once_back()
    {
        IgnoreIf(Cluster.CannotStopAgents);
        using UpstreamCall open = await UpstreamCall.OpenAsync(Mesh.UpstreamPort);
        Assert.That(await open.TryEchoAsync("before"), Is.EqualTo("before"), Mesh.Output);

        await Cluster.StopAgentsAsync();
        try
        {
            await Mesh.CountingSidecar.WaitForLineAsync(IsOutageOf("intentions counting"), "the outage");
            await Mesh.DashboardSidecar.WaitForLineAsync(IsOutageOf("leaf dashboard"), "the outage");
            Assert.That(await open.TryEchoAsync("during"), Is.EqualTo("during"), "the connection opened before the outage");
            Assert.That(await UpstreamCall.TryOnceAsync(Mesh.UpstreamPort, "new during"), Is.EqualTo("new during"), "a new connection during the outage:\n" + Mesh.Output);

            // Long enough for every query to retry: the outage must still be one line per query, not one per retry.
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        finally
        {
            await Cluster.StartAgentsAsync();
        }

        // A blocking query that reconnects waits for a change before it answers: the change is what shows the agent is back.
        await Cluster.SetIntentionAsync(Cluster.RemoteDatacenter, "dashboard", "counting", "deny");
        await EventuallyAsync(async () => await UpstreamCall.TryOnceAsync(Mesh.UpstreamPort, "denied?") is null, "a deny set after the outage to apply");
        string recovered = await Mesh.CountingSidecar.WaitForLineAsync(
            l => l.Contains("intentions counting: the Consul agent at", StringComparison.Ordinal) && l.Contains("answers again", StringComparison.Ordinal), "the recovery");
        int failedRounds = int.Parse(Regex.Match(recovered, @"after (\d+) failed rounds").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(failedRounds, Is.GreaterThan(1), recovered);
        Assert.That(Mesh.CountingSidecar.Lines.Count(IsOutageOf("intentions counting")), Is.EqualTo(1), Mesh.CountingSidecar.Output);
    }

    [Test]
    public async Task A_datacenter_that_joins_the_federation_gets_its_wildcard_route_in_the_running_gateway()
    {
        IgnoreIf(Cluster.CannotJoinDatacenter);
        using var dc3Gateway = new TcpListener(IPAddress.Loopback, 0);
        dc3Gateway.Start();
        int wan = ((IPEndPoint)dc3Gateway.LocalEndpoint).Port;
        string serverName = $"counting.default.dc3.internal.{Cluster.TrustDomain}";

        await Cluster.JoinDatacenterAsync("dc3", MeshTopology.Gateway("mesh-gateway-dc3", HostProcess.FreePort(), wan));

        await EventuallyAsync(() => ReachesAsync(dc3Gateway, Mesh.LocalGatewayLanPort, serverName), $"dc1's gateway to route {serverName} to dc3's gateway");
    }

    private protected abstract Task<ConsulCluster> CreateClusterAsync();

    private static void IgnoreIf(string? reason)
    {
        if (reason is not null)
        {
            Assert.Ignore(reason);
        }
    }

    private static Func<string, bool> IsOutageOf(string query) =>
        l => l.Contains($"{query}: the Consul agent at", StringComparison.Ordinal)
            && (l.Contains("is unreachable", StringComparison.Ordinal) || l.Contains("did not answer in time", StringComparison.Ordinal) || l.Contains("cannot serve", StringComparison.Ordinal));

    private async Task<string> CountingPresentsAsync(X509Certificate2 caller) =>
        await PeerProbe.PresentedSerialAsync(Mesh.CountingPublicPort, Mesh.CountingServerName, caller);

    private async Task<bool> BothPresentRenewedLeavesAsync(string oldCounting, string oldDashboard)
    {
        string counting = await Cluster.LeafSerialAsync(Cluster.RemoteDatacenter, "counting");
        string dashboard = await Cluster.LeafSerialAsync(Cluster.LocalDatacenter, "dashboard");
        if (counting == oldCounting || dashboard == oldDashboard)
        {
            return false;
        }

        using X509Certificate2 asDashboard = await Cluster.LeafCertificateAsync(Cluster.LocalDatacenter, "dashboard");
        using X509Certificate2 asCounting = await Cluster.LeafCertificateAsync(Cluster.RemoteDatacenter, "counting");
        return await PeerProbe.PresentedSerialAsync(Mesh.CountingPublicPort, Mesh.CountingServerName, asDashboard) == counting
            && await PeerProbe.PresentedSerialAsync(Mesh.DashboardPublicPort, Mesh.DashboardServerName, asCounting) == dashboard;
    }

    private Task EventuallyCallsAsync(string what) =>
        EventuallyAsync(async () => await UpstreamCall.TryOnceAsync(Mesh.UpstreamPort, "ping") == "ping", what);

    private async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > Patience)
            {
                Assert.Fail($"Timed out after {Patience.TotalSeconds} s waiting for {what}:\n{Mesh.Output}");
            }

            await Task.Delay(100);
        }
    }

    // A TLS ClientHello with the SNI sent to the gateway: the route exists when the gateway forwards it to the target.
    private static async Task<bool> ReachesAsync(TcpListener target, int gatewayPort, string serverName)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, gatewayPort);
        var tls = new SslStream(client.GetStream());
        Task handshake = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
#pragma warning disable CA5359 // Only the ClientHello matters: the handshake never completes.
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
#pragma warning restore CA5359
        });
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            using TcpClient forwarded = await target.AcceptTcpClientAsync(timeout.Token);
            byte[] buffer = new byte[1];
            return await forwarded.GetStream().ReadAsync(buffer, timeout.Token) == 1 && buffer[0] == 0x16; // a TLS handshake record
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        finally
        {
            client.Dispose();
            await tls.DisposeAsync();
            try
            {
                await handshake;
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Security.Authentication.AuthenticationException or OperationCanceledException or SocketException)
            {
            }
        }
    }
}

/// <summary>The end-to-end tests against two federated test agents, dc1 and dc2.</summary>
public sealed class TestAgentTwoDatacenterTests : TwoDatacenterTests
{
    private protected override async Task<ConsulCluster> CreateClusterAsync() => await TestAgentCluster.StartAsync();
}

/// <summary>
/// The end-to-end tests against a real Consul agent at <c>CONSUL_HTTP_ADDR</c> (<c>consul agent -dev</c>): one datacenter, so
/// dashboard reaches counting without gateways, and the tests that need to stop the agent, rotate one leaf or federate a second
/// datacenter are ignored with the reason. Without <c>CONSUL_HTTP_ADDR</c> every test is ignored, not passed.
/// </summary>
public sealed class RealAgentTests : TwoDatacenterTests
{
    private protected override async Task<ConsulCluster> CreateClusterAsync()
    {
        string? address = Environment.GetEnvironmentVariable("CONSUL_HTTP_ADDR");
        if (string.IsNullOrWhiteSpace(address))
        {
            Assert.Ignore("CONSUL_HTTP_ADDR not set: these tests run against a real Consul agent only when it names one; start `consul agent -dev` and set CONSUL_HTTP_ADDR=http://127.0.0.1:8500 (docs/consul.md)");
        }

        return await RealAgentCluster.ConnectAsync(address, Environment.GetEnvironmentVariable("CONSUL_HTTP_TOKEN"));
    }
}

/// <summary>
/// The real-agent fixture's own path (one datacenter without gateways; services, intentions and the root rotation through the
/// agent's write API) run against a test agent, so that it is exercised where no Consul agent is installed.
/// </summary>
public sealed class AgentApiTests : TwoDatacenterTests
{
    private protected override async Task<ConsulCluster> CreateClusterAsync()
    {
        ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        return await RealAgentCluster.ConnectAsync(agent.Address, null, agent);
    }
}
