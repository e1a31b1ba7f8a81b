using Mesh.Consul;
using Mesh.Sni.Gateway;

namespace Mesh.Host.Roles;

/// <summary>
/// A mesh gateway registered with a Consul agent (<c>Kind: mesh-gateway</c>): it listens on its registered LAN and WAN addresses,
/// routes exactly to the local connect services and by wildcard to the gateways of the other datacenters, all from the agent's
/// catalog. It holds no certificate: it never decrypts.
/// </summary>
internal sealed class ConsulGatewayRole(ConsulControlPlane consul, HostArguments arguments, Readiness readiness, ILoggerFactory loggerFactory) : IHostedService
{
    private const string DatacenterRefreshVariable = "MESH_CONSUL_DATACENTER_REFRESH";

    private MeshGateway? _gateway;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ConsulMeshGatewayRegistration self;
        try
        {
            self = await ConsulMeshGatewayRegistration.ReadAsync(consul.Client, arguments.Service!, cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            throw HostStartupException.Configuration(ex.Message);
        }

        await consul.TrustBundle.GetBundleAsync(cancellationToken);
        consul.Catalog.WatchLocalServices();
        consul.Catalog.WatchMeshGateways();
        // The federation is followed: a datacenter that joins later gets its wildcard route without a restart.
        consul.Catalog.WatchFederatedMeshGateways(self.Datacenter, DatacenterRefresh());

        await consul.Catalog.WaitForFirstAnswersAsync(cancellationToken);
        var options = new MeshGatewayOptions
        {
            Datacenter = self.Datacenter,
            TrustDomain = consul.TrustBundle.TrustDomain!.Value,
            OutboundAddress = self.LanAddress.Address,
        };
        options.ListenEndPoints.Add(self.LanAddress);
        if (!self.WanAddress.Equals(self.LanAddress))
        {
            options.ListenEndPoints.Add(self.WanAddress);
        }

        _gateway = new MeshGateway(options, consul.Catalog, loggerFactory);
        await _gateway.StartAsync(cancellationToken);
        readiness.MarkReady();
    }

    // MESH_CONSUL_DATACENTER_REFRESH (seconds) overrides how often /v1/catalog/datacenters is read again (30 s by default).
    private static TimeSpan? DatacenterRefresh()
    {
        string? text = Environment.GetEnvironmentVariable(DatacenterRefreshVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds) && seconds is > 0 and <= 3600
            ? TimeSpan.FromSeconds(seconds)
            : throw HostStartupException.Configuration($"{DatacenterRefreshVariable} is '{text}'; give the seconds between two reads of the datacenters, above 0 and at most 3600.");
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.MarkDraining();
        if (_gateway is not null)
        {
            await _gateway.StopAsync(cancellationToken);
            await _gateway.DisposeAsync();
        }
    }
}
