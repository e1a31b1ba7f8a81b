using Mesh.ControlPlane;
using Mesh.ControlPlane.File;
using Mesh.Sni.Gateway;

namespace Mesh.Host.Roles;

/// <summary>Runs a mesh gateway for one datacenter of the control-plane file, on its LAN and WAN addresses.</summary>
internal sealed class GatewayRole(ControlPlaneFile controlPlane, HostArguments arguments, Readiness readiness, ILoggerFactory loggerFactory) : IHostedService
{
    private MeshGateway? _gateway;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        string datacenter = arguments.Datacenter!;
        IReadOnlyList<string> datacenters = controlPlane.Configuration.Datacenters;
        if (!datacenters.Contains(datacenter, StringComparer.Ordinal))
        {
            throw HostStartupException.Configuration(
                $"the control-plane file {arguments.ConfigPath} has no datacenter '{datacenter}' (it has: {string.Join(", ", datacenters)}); check --datacenter.");
        }

        MeshGatewayEndpoint self = controlPlane.GetMeshGateways(datacenter) is [var first, ..]
            ? first
            : throw HostStartupException.Configuration($"the control-plane file {arguments.ConfigPath} lists no mesh gateway for datacenter '{datacenter}'.");
        var options = new MeshGatewayOptions
        {
            Datacenter = datacenter,
            TrustDomain = controlPlane.Configuration.TrustDomain,
            OutboundAddress = self.LanAddress.Address,
        };
        options.ListenEndPoints.Add(self.LanAddress);
        if (!self.WanAddress.Equals(self.LanAddress))
        {
            options.ListenEndPoints.Add(self.WanAddress);
        }

        _gateway = new MeshGateway(options, controlPlane, loggerFactory);
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
