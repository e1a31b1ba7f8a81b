using System.Net;
using Mesh.Consul;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Identity;
using Mesh.Tls.Outbound;
using Mesh.Tls.Sidecar;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Mesh.Host.Roles;

/// <summary>
/// The sidecar of a service registered with a Consul agent, as <c>consul connect proxy -sidecar-for</c>: its own
/// <c>connect-proxy</c> registration gives the destination service, the local application, the public port and the upstreams;
/// the agent gives the destination's leaf, the roots, the upstreams' endpoints and the intentions.
/// </summary>
internal sealed partial class ConsulSidecarRole(
    ConsulControlPlane consul, HostArguments arguments, Readiness readiness, ILoggerFactory loggerFactory, IOptions<HostOptions> hostOptions) : IHostedService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<ConsulSidecarRole>();
    private readonly CancellationTokenSource _stopping = new();
    private MeshSidecar? _sidecar;
    private Task _following = Task.CompletedTask;

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

        ConsulProxyConfigurationSource registration = consul.GetProxyConfiguration(proxyId);
        // Taken before the first read, so a change between the read and the watch below is never missed.
        IChangeToken changed = registration.GetChangeToken();
        ConsulProxyConfiguration proxy = await registration.GetConfigurationAsync(cancellationToken);
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
        foreach (MeshUpstream upstream in WatchUpstreams(proxy, identity, atStart: true))
        {
            options.Upstreams.Add(upstream);
        }

        await consul.Catalog.WaitForFirstAnswersAsync(cancellationToken);
        // Before the first intentions every caller would be denied: ready means they are in (a 403 ends the start here).
        await consul.Intentions.GetIntentionsAsync(cancellationToken);
        _sidecar = new MeshSidecar(options, leaves, consul.TrustBundle, consul.Catalog, consul.Intentions, loggerFactory);
        await _sidecar.StartAsync(cancellationToken);
        MeshSidecar sidecar = _sidecar;
        readiness.MarkReadyWhile(() => sidecar.IsLocalApplicationHealthy);
        _following = FollowRegistrationAsync(registration, changed, proxy, identity, sidecar, _stopping.Token);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.MarkDraining();
        await _stopping.CancelAsync();
        await _following.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_sidecar is not null)
        {
            await _sidecar.StopAsync(cancellationToken);
            await _sidecar.DisposeAsync();
        }

        _stopping.Dispose();
    }

    // As `consul connect proxy -sidecar-for` does, the upstreams follow the registration while the sidecar runs: each change of
    // the proxy's registration (a blocking read of /v1/agent/service/<id>) applies the new set, new destinations are watched in
    // the catalog first, and removed upstreams drain for as long as the host gives a stop.
    private async Task FollowRegistrationAsync(
        ConsulProxyConfigurationSource registration, IChangeToken changed, ConsulProxyConfiguration applied, ServiceIdentity identity, MeshSidecar sidecar,
        CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await WaitForChangeAsync(changed, cancellationToken);
                changed = registration.GetChangeToken();
                if (registration.Current is not { } current || ReferenceEquals(current, applied))
                {
                    continue;
                }

                applied = current;
                IReadOnlyList<MeshUpstream> upstreams = WatchUpstreams(current, identity, atStart: false);
                using (var firstAnswers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    // A new destination's endpoints arrive within one blocking round; an agent that is away does not hold the change back.
                    firstAnswers.CancelAfter(TimeSpan.FromSeconds(5));
                    await consul.Catalog.WaitForFirstAnswersAsync(firstAnswers.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }

                var drain = new CancellationTokenSource(hostOptions.Value.ShutdownTimeout);
                SidecarUpstreamUpdate update = sidecar.UpdateUpstreams(upstreams, drain.Token);
                _ = update.Drained.ContinueWith(static (_, state) => ((CancellationTokenSource)state!).Dispose(), drain, CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // An upstream Mesh cannot serve (an invalid name): the previous set stays, the next change is applied again.
                Log.UpstreamNotApplied(_logger, applied.ProxyServiceId, ex.Message);
            }
        }
    }

    // The registration's service upstreams, watched in the catalog: the destination's endpoints in this datacenter, the local
    // mesh gateways for another one (mesh gateway mode local). At start an unsupported upstream fails the start; later it is
    // logged and left out, so a registration edit never stops a running sidecar.
    private List<MeshUpstream> WatchUpstreams(ConsulProxyConfiguration proxy, ServiceIdentity identity, bool atStart)
    {
        var upstreams = new List<MeshUpstream>(proxy.Upstreams.Count);
        bool remote = false;
        foreach (ConsulUpstream upstream in proxy.Upstreams)
        {
            if (upstream.DestinationType != "service")
            {
                string message = $"upstream {upstream} of '{proxy.ProxyServiceId}' is a {upstream.DestinationType}; Mesh supports service upstreams only.";
                if (atStart)
                {
                    throw HostStartupException.Configuration(message);
                }

                Log.UpstreamNotApplied(_logger, proxy.ProxyServiceId, message);
                continue;
            }

            string datacenter = upstream.Datacenter ?? identity.Datacenter;
            if (datacenter == identity.Datacenter)
            {
                consul.Catalog.WatchService(upstream.Destination);
            }
            else
            {
                remote = true;
            }

            IPAddress address = atStart
                ? ParseAddress(upstream.LocalBindAddress, IPAddress.Loopback, $"the LocalBindAddress of upstream {upstream}")
                : IPAddress.TryParse(upstream.LocalBindAddress, out IPAddress? parsed) ? parsed
                : throw new ArgumentException($"the LocalBindAddress of upstream {upstream} is not an IP address");
            upstreams.Add(new MeshUpstream(upstream.Destination, datacenter, new IPEndPoint(address, upstream.LocalBindPort)));
        }

        if (remote)
        {
            consul.Catalog.WatchMeshGateways();
        }

        return upstreams;
    }

    private static Task WaitForChangeAsync(IChangeToken token, CancellationToken cancellationToken)
    {
        if (token.HasChanged)
        {
            return Task.CompletedTask;
        }

        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        IDisposable registration = token.RegisterChangeCallback(static state => ((TaskCompletionSource)state!).TrySetResult(), fired);
        return fired.Task.WaitAsync(cancellationToken).ContinueWith(
            t =>
            {
                registration.Dispose();
                return t;
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).Unwrap();
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

    private static partial class Log
    {
        [LoggerMessage(EventId = MeshLogEvents.UpstreamListenerFailed, Level = LogLevel.Error,
            Message = "Sidecar {ProxyId}: an upstream of the changed registration is not applied: {Reason}")]
        public static partial void UpstreamNotApplied(ILogger logger, string proxyId, string reason);
    }
}
