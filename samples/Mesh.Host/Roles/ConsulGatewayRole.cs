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
        // The datacenters are read once: a datacenter federated later needs a restart of the gateway.
        foreach (string datacenter in await consul.GetDatacentersAsync(cancellationToken))
        {
            if (datacenter != self.Datacenter)
            {
                consul.Catalog.WatchMeshGateways(datacenter);
            }
        }

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
