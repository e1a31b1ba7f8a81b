using Mesh.ControlPlane;
using Microsoft.Extensions.Logging;

namespace Mesh.Consul;

/// <summary>
/// The four control-plane contracts read from one local Consul agent, for a host to hand to the sidecar, the gateway or the
/// in-process mesh: one agent client, the roots, a catalog, the intentions of the local services, a leaf per service and a sidecar's
/// own registration. Sources start their blocking queries when first asked for and stop when the control plane is disposed.
/// </summary>
public sealed class ConsulControlPlane : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ConsulLeafSource> _leaves = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConsulProxyConfigurationSource> _proxies = new(StringComparer.Ordinal);
    private ConsulTrustBundleSource? _roots;
    private ConsulServiceCatalog? _catalog;
    private ConsulIntentionSource? _intentions;
    private bool _disposed;

    /// <summary>Creates a control plane for the agent the options name; nothing is asked of the agent yet.</summary>
    /// <param name="options">The agent's address and credentials, e.g. <see cref="ConsulOptions.FromEnvironment"/>.</param>
    /// <param name="loggerFactory">Where the sources log.</param>
    public ConsulControlPlane(ConsulOptions options, ILoggerFactory? loggerFactory = null) => Client = new ConsulAgentClient(options, loggerFactory);

    /// <summary>The agent client the sources share.</summary>
    public ConsulAgentClient Client { get; }

    /// <summary>The cluster's roots (<see cref="ITrustBundleSource"/>).</summary>
    public ConsulTrustBundleSource TrustBundle => Get(ref _roots, () => new ConsulTrustBundleSource(Client));

    /// <summary>The catalog (<see cref="IServiceCatalog"/>); call its <c>Watch…</c> methods for the upstreams and gateways needed.</summary>
    public ConsulServiceCatalog Catalog => Get(ref _catalog, () => new ConsulServiceCatalog(Client));

    /// <summary>The intentions (<see cref="IIntentionSource"/>); call <see cref="ConsulIntentionSource.Watch"/> for each local destination.</summary>
    public ConsulIntentionSource Intentions => Get(ref _intentions, () => new ConsulIntentionSource(Client, []));

    /// <summary>The leaf of a service (<see cref="ILeafSource"/>), one source per service.</summary>
    public ConsulLeafSource GetLeafSource(string service) => Get(_leaves, service, name => new ConsulLeafSource(Client, name));

    /// <summary>The registration of a <c>connect-proxy</c> service, one source per proxy ID.</summary>
    public ConsulProxyConfigurationSource GetProxyConfiguration(string proxyServiceId) =>
        Get(_proxies, proxyServiceId, id => new ConsulProxyConfigurationSource(Client, id));

    /// <summary>
    /// The datacenters the cluster knows (<c>GET /v1/catalog/datacenters</c>, once): a mesh gateway watches the gateways of each
    /// remote one for its wildcard routes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The agent could not be asked or gave no list.</exception>
    public async Task<IReadOnlyList<string>> GetDatacentersAsync(CancellationToken cancellationToken)
    {
        Client.ConsulResponse response;
        try
        {
            response = await Client.SendAsync(Mesh.Consul.Client.ConsulRequest.Get("/v1/catalog/datacenters", "none"), null, null, cancellationToken).ConfigureAwait(false);
        }
        catch (Mesh.Consul.Client.ConsulRequestException exception)
        {
            throw new InvalidOperationException($"Cannot list the datacenters of the Consul agent at {Client.AgentAddress}: {exception.Message}", exception);
        }

        List<string>? datacenters = System.Text.Json.JsonSerializer.Deserialize(response.Body, Json.ConsulJsonContext.Default.ListString);
        return datacenters?.Where(static d => !string.IsNullOrEmpty(d)).ToArray()
            ?? throw new InvalidOperationException($"The Consul agent at {Client.AgentAddress} answered no datacenter list.");
    }

    /// <summary>
    /// Waits for what a workload needs before it can serve: the first leaf of <paramref name="service"/> and the first roots.
    /// </summary>
    /// <exception cref="ConsulPermissionDeniedException">The token lacks a permission (the message names it).</exception>
    public async Task WaitUntilReadyAsync(string service, CancellationToken cancellationToken)
    {
        await GetLeafSource(service).GetLeafAsync(cancellationToken).ConfigureAwait(false);
        await TrustBundle.GetBundleAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        List<IAsyncDisposable> sources;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            sources = [.. _leaves.Values, .. _proxies.Values];
            sources.AddRange(new IAsyncDisposable?[] { _roots, _catalog, _intentions }.OfType<IAsyncDisposable>());
        }

        foreach (IAsyncDisposable source in sources)
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }

        Client.Dispose();
    }

    private T Get<T>(ref T? field, Func<T> create)
        where T : class
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return field ??= create();
        }
    }

    // One source per key (a service's leaf, a proxy's registration), created on first use; none after disposal.
    private T Get<T>(Dictionary<string, T> sources, string key, Func<string, T> create)
        where T : class
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!sources.TryGetValue(key, out T? source))
            {
                sources[key] = source = create(key);
            }

            return source;
        }
    }
}
