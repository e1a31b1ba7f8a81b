using System.Net;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Sni.Gateway;
using Mesh.Tls.Authority;
using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;
using Mesh.Tls.Sidecar;

namespace Mesh.EndToEnd.Tests.Support;

/// <summary>
/// The life of a packet in one process, over real loopback sockets: dashboard's sidecar in dc1, mesh gateways in dc1 and dc2,
/// counting's sidecars in dc2 and dc1, and the counting applications behind them, with certificates from the mesh CA.
/// </summary>
internal sealed class TwoDatacenterMesh : IAsyncDisposable
{
    public const string AllowDashboard = """
        [{ "Kind": "service-intentions", "Name": "counting", "Sources": [ { "Name": "dashboard", "Action": "allow" } ] }]
        """;

    public static readonly TrustDomain TrustDomain = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");
    public static readonly ServiceName Dashboard = new("dashboard");
    public static readonly ServiceName Counting = new("counting");

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<ServiceEndpoint> _endpoints = [];
    private readonly List<MeshGatewayEndpoint> _gateways = [];
    private Action<MeshGatewayOptions>? _configureGateways;

    private TwoDatacenterMesh(IPAddress address, CapturedLogs logs)
    {
        Address = address;
        Logs = logs;
        var options = new MeshCaOptions { TrustDomain = TrustDomain, Datacenter = "dc1", MinimumLeafTtl = TimeSpan.FromSeconds(1) };
        options.AdditionalDatacenters.Add("dc2");
        Ca = new MeshCertificateAuthority(options);
    }

    public IPAddress Address { get; }

    public CapturedLogs Logs { get; }

    public MeshCertificateAuthority Ca { get; }

    public InMemoryServiceCatalog Catalog { get; } = new();

    public InMemoryIntentionSource Intentions { get; } = new();

    public InMemoryLeafSource DashboardLeaf { get; } = new();

    public InMemoryLeafSource CountingDc2Leaf { get; } = new();

    public TestApplication CountingDc2App { get; private set; } = null!;

    public TestApplication CountingDc1App { get; private set; } = null!;

    public MeshSidecar DashboardSidecar { get; private set; } = null!;

    public MeshSidecar CountingDc2Sidecar { get; private set; } = null!;

    public MeshSidecar CountingDc1Sidecar { get; private set; } = null!;

    public MeshGateway GatewayDc1 { get; private set; } = null!;

    public MeshGateway GatewayDc2 { get; private set; } = null!;

    /// <summary>Where dashboard's application connects to reach counting in dc2.</summary>
    public IPEndPoint UpstreamToDc2 => DashboardSidecar.UpstreamEndPoints[0];

    /// <summary>Where dashboard's application connects to reach counting in dc1.</summary>
    public IPEndPoint UpstreamToDc1 => DashboardSidecar.UpstreamEndPoints[1];

    /// <param name="configureGateways">Changes the options of both gateways before they start (a benchmark's variant).</param>
    public static async Task<TwoDatacenterMesh> StartAsync(
        string intentionsJson = AllowDashboard, IPAddress? address = null, Action<MeshGatewayOptions>? configureGateways = null)
    {
        var mesh = new TwoDatacenterMesh(address ?? IPAddress.Loopback, new CapturedLogs()) { _configureGateways = configureGateways };
        try
        {
            await mesh.StartAsync(intentionsJson);
            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
    }

    public void SetIntentions(string json) => Intentions.Set(new IntentionSet(IntentionJson.ReadConfigEntries(json)));

    public LeafCertificate IssueLeaf(ServiceName service, string datacenter, TimeSpan? ttl = null) =>
        Ca.IssueLeaf(new ServiceIdentity(service, datacenter).ToSpiffeId(TrustDomain), ttl: ttl);

    private async Task StartAsync(string intentionsJson)
    {
        SetIntentions(intentionsJson);
        DashboardLeaf.Set(IssueLeaf(Dashboard, "dc1"));
        CountingDc2Leaf.Set(IssueLeaf(Counting, "dc2"));
        var countingDc1Leaf = new InMemoryLeafSource(IssueLeaf(Counting, "dc1"));

        CountingDc2App = Own(TestApplication.Start(Address));
        CountingDc1App = Own(TestApplication.Start(Address));

        CountingDc2Sidecar = Own(await StartSidecar(new ServiceIdentity(Counting, "dc2"), CountingDc2Leaf, CountingDc2App.EndPoint));
        CountingDc1Sidecar = Own(await StartSidecar(new ServiceIdentity(Counting, "dc1"), countingDc1Leaf, CountingDc1App.EndPoint));
        DashboardSidecar = Own(await StartSidecar(new ServiceIdentity(Dashboard, "dc1"), DashboardLeaf, new IPEndPoint(Address, 9),
            new MeshUpstream(Counting, "dc2", new IPEndPoint(Address, 0)),
            new MeshUpstream(Counting, "dc1", new IPEndPoint(Address, 0))));

        GatewayDc1 = Own(await StartGateway("dc1"));
        GatewayDc2 = Own(await StartGateway("dc2"));

        _endpoints.AddRange(
            [
                new ServiceEndpoint(new ServiceIdentity(Counting, "dc2"), CountingDc2Sidecar.PublicEndPoint!),
                new ServiceEndpoint(new ServiceIdentity(Counting, "dc1"), CountingDc1Sidecar.PublicEndPoint!),
                new ServiceEndpoint(new ServiceIdentity(Dashboard, "dc1"), DashboardSidecar.PublicEndPoint!),
            ]);
        _gateways.AddRange(
            [
                new MeshGatewayEndpoint("dc1", GatewayDc1.LocalEndPoints[0], GatewayDc1.LocalEndPoints[0]),
                new MeshGatewayEndpoint("dc2", GatewayDc2.LocalEndPoints[0], GatewayDc2.LocalEndPoints[0]),
            ]);
        Catalog.Replace(_endpoints, _gateways);
    }

    /// <summary>Adds a mesh endpoint (an in-process service's listener, another sidecar) to the catalog.</summary>
    public void Register(ServiceIdentity service, IPEndPoint address, IReadOnlyDictionary<string, string>? meta = null)
    {
        _endpoints.Add(new ServiceEndpoint(service, address, meta));
        Catalog.Replace(_endpoints, _gateways);
    }

    /// <summary>An in-process mesh member (no sidecar) over this mesh's catalog, intentions and trust bundle, started and ready.</summary>
    public async Task<MeshService> StartInProcess(ServiceIdentity service, ILeafSource leaf, params MeshUpstream[] upstreams)
    {
        var options = new MeshOptions
        {
            Service = service.Service.Name,
            Datacenter = service.Datacenter,
            TrustDomain = TrustDomain.Name,
            CertificateAuthorityAddress = new Uri("http://127.0.0.1:1"),
            Token = "unused: the leaf source is given",
            ConnectTimeout = TimeSpan.FromSeconds(2),
            HandshakeTimeout = TimeSpan.FromSeconds(5),
        };
        foreach (MeshUpstream upstream in upstreams)
        {
            options.Upstreams.Add(upstream);
        }

        var mesh = Own(new MeshService(options, leaf, Ca.TrustBundleSource, Catalog, Intentions, Logs));
        await mesh.StartAsync();
        return mesh;
    }

    public async Task<MeshSidecar> StartSidecar(ServiceIdentity service, ILeafSource leaf, IPEndPoint application, params MeshUpstream[] upstreams)
    {
        var options = new SidecarOptions
        {
            Service = service,
            TrustDomain = TrustDomain,
            PublicListener = new IPEndPoint(Address, 0),
            LocalApplication = application,
            HandshakeTimeout = TimeSpan.FromSeconds(5),
            UpstreamConnectTimeout = TimeSpan.FromSeconds(2),

            // The tests here count the connections an application accepts: the check's connects would be among them.
            LocalApplicationCheckInterval = TimeSpan.Zero,
        };
        foreach (MeshUpstream upstream in upstreams)
        {
            options.Upstreams.Add(upstream);
        }

        var sidecar = new MeshSidecar(options, leaf, Ca.TrustBundleSource, Catalog, Intentions, Logs);
        await sidecar.StartAsync();
        return sidecar;
    }

    private async Task<MeshGateway> StartGateway(string datacenter)
    {
        var options = new MeshGatewayOptions { Datacenter = datacenter, TrustDomain = TrustDomain, ConnectTimeout = TimeSpan.FromSeconds(2) };
        options.ListenEndPoints.Add(new IPEndPoint(Address, 0));
        _configureGateways?.Invoke(options);
        var gateway = new MeshGateway(options, Catalog, Logs);
        await gateway.StartAsync();
        return gateway;
    }

    private T Own<T>(T disposable) where T : IAsyncDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        Ca.Dispose();
    }
}
