using System.Text.Json;
using Mesh.Consul.Client;
using Mesh.Consul.Json;
using Mesh.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Mesh.Consul;

/// <summary>
/// A sidecar's own <c>connect-proxy</c> registration, watched with the agent's hash-based blocking read
/// (<c>GET /v1/agent/service/&lt;id&gt;?hash=&amp;wait=</c>): an upstream added or removed, or a changed local port, arrives as a new
/// <see cref="ConsulProxyConfiguration"/> without a restart.
/// </summary>
/// <remarks>Needs <c>service:read</c> on the proxy service.</remarks>
public sealed class ConsulProxyConfigurationSource : IAsyncDisposable
{
    private readonly BlockingQuery<ProxyValue> _query;

    /// <summary>Starts watching the registration of the proxy service <paramref name="proxyServiceId"/>.</summary>
    public ConsulProxyConfigurationSource(ConsulAgentClient client, string proxyServiceId)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(proxyServiceId);
        ProxyServiceId = proxyServiceId;
        _query = new BlockingQuery<ProxyValue>(
            client,
            $"proxy {proxyServiceId}",
            "proxy",
            ConsulRequest.Get("/v1/agent/service/" + Uri.EscapeDataString(proxyServiceId), $"service:read on the proxy service registered as \"{proxyServiceId}\""),
            hashBlocking: true,
            (response, _) => ValueTask.FromResult(Parse(response, proxyServiceId)),
            static (a, b) => a.Fingerprint == b.Fingerprint,
            onChanged: null,
            client.LoggerFactory.CreateLogger<ConsulProxyConfigurationSource>());
        _query.Start();
    }

    /// <summary>The proxy's service ID.</summary>
    public string ProxyServiceId { get; }

    /// <summary>The current configuration, or null before the first answer.</summary>
    public ConsulProxyConfiguration? Current => _query.Current?.Configuration;

    /// <summary>The permanent error that stopped the source (a 403 naming the missing permission), or null.</summary>
    public Exception? Fault => _query.Fault;

    /// <summary>Returns the current configuration, waiting for the first one.</summary>
    /// <exception cref="ConsulPermissionDeniedException">The token cannot read the proxy's registration.</exception>
    public async ValueTask<ConsulProxyConfiguration> GetConfigurationAsync(CancellationToken cancellationToken) =>
        (await _query.GetAsync(cancellationToken).ConfigureAwait(false)).Configuration;

    /// <summary>A token that fires when <see cref="Current"/> changes.</summary>
    public IChangeToken GetChangeToken() => _query.GetChangeToken();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _query.DisposeAsync();

    /// <summary>
    /// Finds the ID of the sidecar registered for a service instance, as <c>consul connect proxy -sidecar-for &lt;id&gt;</c> does:
    /// the one <c>connect-proxy</c> of the agent whose <c>Proxy.DestinationServiceID</c> is <paramref name="serviceId"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">No sidecar, or more than one, is registered for the service.</exception>
    /// <exception cref="ConsulPermissionDeniedException">The token cannot list the agent's services.</exception>
    public static async Task<string> FindSidecarIdAsync(ConsulAgentClient client, string serviceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceId);
        ConsulResponse response;
        try
        {
            response = await client.SendAsync(ConsulRequest.Get("/v1/agent/services", "service:read on the local services"), null, null, cancellationToken).ConfigureAwait(false);
        }
        catch (ConsulRequestException exception)
        {
            throw new InvalidOperationException($"Cannot list the services of the Consul agent at {client.AgentAddress}: {exception.Message}", exception);
        }

        Dictionary<string, AgentServiceDto?> services = JsonSerializer.Deserialize(response.Body, ConsulJsonContext.Default.DictionaryStringAgentServiceDto) ?? [];
        string[] sidecars = [.. services.Values
            .Where(s => s is { Kind: "connect-proxy", Id: not null } && s.Proxy?.DestinationServiceId == serviceId)
            .Select(static s => s!.Id!)
            .Order(StringComparer.Ordinal)];
        return sidecars.Length switch
        {
            1 => sidecars[0],
            0 => throw new InvalidOperationException($"No sidecar proxy is registered on the Consul agent at {client.AgentAddress} for service ID '{serviceId}'; register one (\"connect\": {{\"sidecar_service\": {{}}}}) or name the proxy's own ID."),
            _ => throw new InvalidOperationException($"More than one sidecar proxy is registered for '{serviceId}'; name one of these proxy IDs instead: {string.Join(", ", sidecars)}."),
        };
    }

    /// <summary>
    /// Reads a proxy's registration once, failing at once where the watching source would wait for it to appear: what a host
    /// checks at start, so that a wrong ID is a clear error rather than a sidecar that never becomes ready.
    /// </summary>
    /// <exception cref="InvalidOperationException">No such service, or not a <c>connect-proxy</c>; the message says which.</exception>
    /// <exception cref="ConsulPermissionDeniedException">The token cannot read the registration.</exception>
    public static async Task<ConsulProxyConfiguration> ReadAsync(ConsulAgentClient client, string proxyServiceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(proxyServiceId);
        try
        {
            ConsulResponse response = await client.SendAsync(
                ConsulRequest.Get("/v1/agent/service/" + Uri.EscapeDataString(proxyServiceId), $"service:read on the proxy service registered as \"{proxyServiceId}\""),
                null, null, cancellationToken).ConfigureAwait(false);
            return Parse(response, proxyServiceId).Configuration;
        }
        catch (ConsulRequestException exception) when (exception.FailureClass == ConsulFailureClass.NotFound)
        {
            throw new InvalidOperationException($"No service '{proxyServiceId}' is registered on the Consul agent at {client.AgentAddress}; name the proxy's service ID (or use -sidecar-for the service).", exception);
        }
        catch (ConsulRequestException exception)
        {
            throw new InvalidOperationException($"Cannot read the registration of '{proxyServiceId}' from the Consul agent at {client.AgentAddress}: {exception.Message}", exception);
        }
        catch (Exception exception) when (exception is FormatException or JsonException)
        {
            throw new InvalidOperationException(exception.Message, exception);
        }
    }

    internal static ProxyValue Parse(ConsulResponse response, string proxyServiceId)
    {
        AgentServiceDto dto = JsonSerializer.Deserialize(response.Body, ConsulJsonContext.Default.AgentServiceDto)
            ?? throw new FormatException("The service answer is null.");
        if (dto.Kind != "connect-proxy" || dto.Proxy is null)
        {
            throw new FormatException($"Service '{proxyServiceId}' is registered with Kind '{dto.Kind}', not as a connect-proxy with a Proxy block.");
        }

        ProxyDto proxy = dto.Proxy;
        if (!ServiceName.IsValidPart(proxy.DestinationServiceName))
        {
            throw new FormatException($"Proxy '{proxyServiceId}' names no valid DestinationServiceName ('{proxy.DestinationServiceName}').");
        }

        var upstreams = new List<ConsulUpstream>();
        foreach (UpstreamDto? upstream in proxy.Upstreams ?? [])
        {
            if (upstream is null || !ServiceName.IsValidPart(upstream.DestinationName) || upstream.LocalBindPort is <= 0 or > 65535)
            {
                throw new FormatException($"Proxy '{proxyServiceId}' has an upstream without a valid DestinationName and LocalBindPort.");
            }

            upstreams.Add(new ConsulUpstream
            {
                DestinationType = string.IsNullOrEmpty(upstream.DestinationType) ? "service" : upstream.DestinationType,
                Destination = new ServiceName(upstream.DestinationName!, NullIfEmpty(upstream.DestinationNamespace), NullIfEmpty(upstream.DestinationPartition)),
                Datacenter = NullIfEmpty(upstream.Datacenter),
                LocalBindAddress = NullIfEmpty(upstream.LocalBindAddress) ?? "127.0.0.1",
                LocalBindPort = upstream.LocalBindPort,
                MeshGatewayMode = ParseMode(upstream.MeshGateway?.Mode),
            });
        }

        var configuration = new ConsulProxyConfiguration
        {
            ProxyServiceId = dto.Id ?? proxyServiceId,
            DestinationService = new ServiceName(proxy.DestinationServiceName!, NullIfEmpty(dto.Namespace), NullIfEmpty(dto.Partition)),
            DestinationServiceId = NullIfEmpty(proxy.DestinationServiceId),
            LocalServiceAddress = NullIfEmpty(proxy.LocalServiceAddress) ?? "127.0.0.1",
            LocalServicePort = proxy.LocalServicePort,
            Address = NullIfEmpty(dto.Address),
            Port = dto.Port,
            Upstreams = upstreams,
            MeshGatewayMode = ParseMode(proxy.MeshGateway?.Mode),
        };

        // The agent's ContentHash changes exactly when the registration does; the body stands in when an agent omits it.
        string fingerprint = dto.ContentHash ?? response.ContentHash ?? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(response.Body));
        return new ProxyValue(configuration, fingerprint);
    }

    private static ConsulMeshGatewayMode ParseMode(string? mode) => mode switch
    {
        null or "" => ConsulMeshGatewayMode.Default,
        "none" => ConsulMeshGatewayMode.None,
        "local" => ConsulMeshGatewayMode.Local,
        "remote" => ConsulMeshGatewayMode.Remote,
        _ => throw new FormatException($"Unknown mesh gateway mode '{mode}'; Consul knows local, remote and none."),
    };

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    internal sealed record ProxyValue(ConsulProxyConfiguration Configuration, string Fingerprint);
}
