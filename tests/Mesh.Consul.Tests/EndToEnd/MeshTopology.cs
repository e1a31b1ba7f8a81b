using System.Net;
using Mesh.Consul.TestAgent;

namespace Mesh.Consul.Tests.EndToEnd;

/// <summary>
/// dashboard in the local datacenter calls counting in the remote one: both applications on 127.0.0.1, each with its sidecar, and
/// (when the datacenters differ) a mesh gateway in each, every one a real Mesh.Host process configured only through the agents.
/// </summary>
internal sealed class MeshTopology : IDisposable
{
    /// <summary>How often the gateways re-read the federated datacenters, short so that a joining datacenter is seen at once.</summary>
    public static readonly IReadOnlyDictionary<string, string> GatewayEnvironment = new Dictionary<string, string> { ["MESH_CONSUL_DATACENTER_REFRESH"] = "1" };

    private readonly List<HostProcess> _hosts = [];

    private MeshTopology(ConsulCluster cluster) => Cluster = cluster;

    public ConsulCluster Cluster { get; }

    public EchoApp Dashboard { get; } = new();

    public EchoApp Counting { get; } = new();

    /// <summary>The port dashboard calls counting on (its sidecar's upstream listener).</summary>
    public int UpstreamPort { get; } = HostProcess.FreePort();

    /// <summary>The public (mTLS) listener of counting's sidecar.</summary>
    public int CountingPublicPort { get; } = HostProcess.FreePort();

    /// <summary>The public (mTLS) listener of dashboard's sidecar.</summary>
    public int DashboardPublicPort { get; } = HostProcess.FreePort();

    public int LocalGatewayLanPort { get; } = HostProcess.FreePort();

    public HostProcess DashboardSidecar { get; private set; } = null!;

    public HostProcess CountingSidecar { get; private set; } = null!;

    public HostProcess? LocalGateway { get; private set; }

    public HostProcess? RemoteGateway { get; private set; }

    /// <summary>The SNI under which counting is reached across the mesh.</summary>
    public string CountingServerName => $"counting.default.{Cluster.RemoteDatacenter}.internal.{Cluster.TrustDomain}";

    /// <summary>The SNI under which dashboard is reached across the mesh.</summary>
    public string DashboardServerName => $"dashboard.default.{Cluster.LocalDatacenter}.internal.{Cluster.TrustDomain}";

    /// <summary>Every host's output, for failure messages.</summary>
    public string Output => string.Join("\n", _hosts.Select(static (h, i) => $"--- host {i} ---\n{h.Output}"));

    public static async Task<MeshTopology> StartAsync(ConsulCluster cluster)
    {
        var topology = new MeshTopology(cluster);
        try
        {
            await topology.RegisterAsync();
            await topology.StartHostsAsync();
            return topology;
        }
        catch
        {
            topology.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (HostProcess host in _hosts)
        {
            host.Dispose();
        }

        Dashboard.Dispose();
        Counting.Dispose();
    }

    private async Task RegisterAsync()
    {
        string local = Cluster.LocalDatacenter;
        string remote = Cluster.RemoteDatacenter;
        await Cluster.RegisterAsync(remote, new TestService("counting", "counting", Counting.Port));
        await Cluster.RegisterAsync(remote, new TestService("counting-sidecar-proxy", "counting-sidecar-proxy", CountingPublicPort)
        {
            Kind = "connect-proxy",
            Proxy = new TestProxy("counting", Counting.Port) { DestinationServiceId = "counting" },
        });
        await Cluster.RegisterAsync(local, new TestService("dashboard", "dashboard", Dashboard.Port));
        await Cluster.RegisterAsync(local, new TestService("dashboard-sidecar-proxy", "dashboard-sidecar-proxy", DashboardPublicPort)
        {
            Kind = "connect-proxy",
            Proxy = new TestProxy("dashboard", Dashboard.Port)
            {
                DestinationServiceId = "dashboard",
                Upstreams =
                [
                    new TestUpstream("counting", UpstreamPort)
                    {
                        LocalBindAddress = "127.0.0.1",
                        Datacenter = Cluster.Federated ? remote : string.Empty,
                        MeshGatewayMode = Cluster.Federated ? "local" : string.Empty,
                    },
                ],
            },
        });
        if (Cluster.Federated)
        {
            await Cluster.RegisterAsync(local, Gateway("mesh-gateway-" + local, LocalGatewayLanPort));
            await Cluster.RegisterAsync(remote, Gateway("mesh-gateway-" + remote, HostProcess.FreePort()));
        }

        await Cluster.SetIntentionAsync(remote, "dashboard", "counting", "allow");
    }

    /// <summary>A mesh gateway registration (<c>consul connect envoy -gateway=mesh -register</c>) with its LAN and WAN addresses.</summary>
    public static TestService Gateway(string id, int lanPort, int? wanPort = null) => new(id, "mesh-gateway", lanPort)
    {
        Kind = "mesh-gateway",
        Lan = new TestAddress("127.0.0.1", lanPort),
        Wan = new TestAddress("127.0.0.1", wanPort ?? HostProcess.FreePort()),
    };

    private async Task StartHostsAsync()
    {
        var starts = new List<(HostProcess Host, IPEndPoint Health)>
        {
            Start(Cluster.RemoteDatacenter, null, "--role", "sidecar", "--sidecar-for", "counting"),
            Start(Cluster.LocalDatacenter, null, "--role", "sidecar", "--sidecar-for", "dashboard"),
        };
        CountingSidecar = starts[0].Host;
        DashboardSidecar = starts[1].Host;
        if (Cluster.Federated)
        {
            starts.Add(Start(Cluster.LocalDatacenter, GatewayEnvironment, "--role", "gateway", "--service", "mesh-gateway-" + Cluster.LocalDatacenter));
            starts.Add(Start(Cluster.RemoteDatacenter, GatewayEnvironment, "--role", "gateway", "--service", "mesh-gateway-" + Cluster.RemoteDatacenter));
            LocalGateway = starts[2].Host;
            RemoteGateway = starts[3].Host;
        }

        await Task.WhenAll(starts.Select(static s => s.Host.WaitReadyAsync(s.Health)));
    }

    private (HostProcess Host, IPEndPoint Health) Start(string datacenter, IReadOnlyDictionary<string, string>? environment, params string[] arguments)
    {
        var health = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());
        List<string> all = [.. arguments, "--consul", Cluster.AddressOf(datacenter), "--health", health.ToString()];
        if (Cluster.Token is { } token)
        {
            all.AddRange(["--token", token]);
        }

        HostProcess host = HostProcess.Start(environment ?? new Dictionary<string, string>(), [.. all]);
        _hosts.Add(host);
        return (host, health);
    }
}
