using System.Net;
using Mesh.Consul;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Sidecar;

namespace Mesh.Host.Roles;

/// <summary>
/// The sidecar of a service registered with a Consul agent, as <c>consul connect proxy -sidecar-for</c>: its own
/// <c>connect-proxy</c> registration gives the destination service, the local application, the public port and the upstreams;
/// the agent gives the destination's leaf, the roots, the upstreams' endpoints and the intentions.
/// </summary>
internal sealed class ConsulSidecarRole(ConsulControlPlane consul, HostArguments arguments, Readiness readiness, ILoggerFactory loggerFactory) : IHostedService
{
    private MeshSidecar? _sidecar;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        string proxyId = arguments.Service ?? await FindSidecarAsync(arguments.SidecarFor!, cancellationToken);
        try
        {
            // Once, to fail at start on a wrong ID; the watching source then follows the registration.
            _ = await ConsulProxyConfigurationSource.ReadAsync(consul.Client, proxyId, cancellationToken);
        }
        catch (InvalidOperationException ex)
        {
            throw HostStartupException.Configuration(ex.Message);
        }

        ConsulProxyConfiguration proxy = await consul.GetProxyConfiguration(proxyId).GetConfigurationAsync(cancellationToken);
        ConsulLeafSource leaves = consul.GetLeafSource(proxy.DestinationService.Name);
        consul.Intentions.Watch(proxy.DestinationService);

        // The leaf's SPIFFE ID names the trust domain and this agent's datacenter: nothing to configure twice.
        LeafCertificate leaf = await leaves.GetLeafAsync(cancellationToken);
        await consul.TrustBundle.GetBundleAsync(cancellationToken);
        if (!ServiceIdentity.TryFromSpiffeId(leaf.Id, out ServiceIdentity identity))
        {
            throw HostStartupException.Configuration($"the Consul agent's leaf for '{proxy.DestinationService}' has the SPIFFE ID '{leaf.Id}', not a service identity.");
        }

        var options = new SidecarOptions
        {
            Service = identity,
            TrustDomain = leaf.Id.TrustDomain,
            // Consul's built-in proxy binds the public listener to the registered address, else to every interface.
            PublicListener = new IPEndPoint(ParseAddress(proxy.Address, IPAddress.Any, "the proxy's Address"), proxy.Port),
            LocalApplication = new IPEndPoint(ParseAddress(proxy.LocalServiceAddress, IPAddress.Loopback, "Proxy.LocalServiceAddress"), proxy.LocalServicePort),
        };
        options.LocalApplicationCheckAddress = options.LocalApplication;

        bool remote = false;
        foreach (ConsulUpstream upstream in proxy.Upstreams)
        {
            if (upstream.DestinationType != "service")
            {
                throw HostStartupException.Configuration($"upstream {upstream} of '{proxyId}' is a {upstream.DestinationType}; Mesh supports service upstreams only.");
            }

            string datacenter = upstream.Datacenter ?? identity.Datacenter;
            if (datacenter == identity.Datacenter)
            {
                consul.Catalog.WatchService(upstream.Destination);
            }
            else
            {
                // Another datacenter is reached through this datacenter's mesh gateways (mesh gateway mode local).
                remote = true;
            }

            options.Upstreams.Add(new SidecarUpstream(
                upstream.Destination,
                datacenter,
                new IPEndPoint(ParseAddress(upstream.LocalBindAddress, IPAddress.Loopback, $"the LocalBindAddress of upstream {upstream}"), upstream.LocalBindPort)));
        }

        if (remote)
        {
            consul.Catalog.WatchMeshGateways();
        }

        await consul.Catalog.WaitForFirstAnswersAsync(cancellationToken);
        // Before the first intentions every caller would be denied: ready means they are in (a 403 ends the start here).
        await consul.Intentions.GetIntentionsAsync(cancellationToken);
        _sidecar = new MeshSidecar(options, leaves, consul.TrustBundle, consul.Catalog, consul.Intentions, loggerFactory);
        await _sidecar.StartAsync(cancellationToken);
        MeshSidecar sidecar = _sidecar;
        readiness.MarkReadyWhile(() => sidecar.IsLocalApplicationHealthy);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.MarkDraining();
        if (_sidecar is not null)
        {
            await _sidecar.StopAsync(cancellationToken);
            await _sidecar.DisposeAsync();
        }
    }

    private async Task<string> FindSidecarAsync(string serviceId, CancellationToken cancellationToken)
    {
        try
        {
            return await ConsulProxyConfigurationSource.FindSidecarIdAsync(consul.Client, serviceId, cancellationToken);
        }
        catch (InvalidOperationException ex) when (ex.InnerException is null)
        {
            // No sidecar, or several, registered for the service: what to fix is the registration or --sidecar-for.
            throw HostStartupException.Configuration(ex.Message);
        }
    }

    internal static IPAddress ParseAddress(string? text, IPAddress fallback, string what) =>
        string.IsNullOrEmpty(text) ? fallback
        : IPAddress.TryParse(text, out IPAddress? address) ? address
        : throw HostStartupException.Configuration($"{what} '{text}' is not an IP address; Mesh listens and dials on IP addresses.");
}
