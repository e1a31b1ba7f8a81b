using Mesh.Configuration;
using Mesh.Identity;
using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Mesh.Consul;

/// <summary>Makes an in-process mesh member (<c>AddMesh</c>) a Connect-native service of a Consul cluster.</summary>
public static class ConsulMeshOptionsExtensions
{
    /// <summary>
    /// Takes this service's leaf, the roots, the catalog of its upstreams and its intentions from the local Consul agent instead
    /// of the control-plane file and the mesh CA, as a Connect-native service (Consul's <c>connect.Service</c>) does.
    /// <see cref="MeshService.Ready"/> completes once the agent has given the first leaf and roots; the trust domain is the one in
    /// the leaf. The service must be registered with the agent (with <c>"Connect": { "Native": true }</c>) and the token needs
    /// <c>service:write</c> on it, <c>service:read</c> on its upstreams and <c>intentions:read</c>.
    /// </summary>
    /// <param name="options">The mesh member's options; <see cref="MeshOptions.Service"/> and <see cref="MeshOptions.Datacenter"/> name it.</param>
    /// <param name="consul">The agent's address and credentials; <see cref="ConsulOptions.FromEnvironment"/> (Consul's own variables) when null.</param>
    /// <returns>The same options, for chaining.</returns>
    /// <exception cref="OptionsValidationException">
    /// A Consul option is invalid; each message names it. Inside <c>AddMesh</c>'s configuration this fails the host's start.
    /// </exception>
    public static MeshOptions UseConsul(this MeshOptions options, ConsulOptions? consul = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ConsulOptions agent = consul ?? ConsulOptions.FromEnvironment();
        // Checked while the host builds MeshOptions (AddMesh validates them on start), so a bad agent address or timing stops
        // the start rather than the first resolution of the MeshService.
        agent.ThrowIfInvalid(ConsulOptionsValidator.Instance);
        options.ControlPlaneSources = services => CreateSources(options, agent, services);
        return options;
    }

    private static MeshControlPlaneSources CreateSources(MeshOptions options, ConsulOptions consul, IServiceProvider services)
    {
        var loggerFactory = services.GetService(typeof(ILoggerFactory)) as ILoggerFactory;
        var controlPlane = new ConsulControlPlane(consul, loggerFactory);
        var self = new ServiceName(options.Service!, options.Namespace, options.Partition);
        bool remoteUpstreams = false;
        foreach (MeshUpstream upstream in options.Upstreams)
        {
            if (upstream.Datacenter is null || string.Equals(upstream.Datacenter, options.Datacenter, StringComparison.Ordinal))
            {
                controlPlane.Catalog.WatchService(new ServiceName(upstream.Name!, upstream.Namespace ?? options.Namespace, upstream.Partition ?? options.Partition));
            }
            else
            {
                // A remote datacenter's service is dialled through this datacenter's mesh gateways, as Consul's proxies do.
                remoteUpstreams = true;
            }
        }

        if (remoteUpstreams)
        {
            controlPlane.Catalog.WatchMeshGateways();
        }

        controlPlane.Intentions.Watch(self);
        return new MeshControlPlaneSources(controlPlane.GetLeafSource(self.Name), controlPlane.TrustBundle, controlPlane.Catalog, controlPlane.Intentions)
        {
            Owner = controlPlane,
        };
    }
}
