using System.Net;
using System.Text.Json;
using Mesh.Consul.Client;
using Mesh.Consul.Json;

namespace Mesh.Consul;

/// <summary>
/// A mesh gateway's own registration with its agent (<c>GET /v1/agent/service/&lt;id&gt;</c>, <c>Kind: mesh-gateway</c>), as
/// <c>consul connect envoy -gateway=mesh -register</c> writes it: its datacenter and the LAN and WAN addresses it listens on.
/// </summary>
public sealed class ConsulMeshGatewayRegistration
{
    /// <summary>The gateway's service ID.</summary>
    public required string ServiceId { get; init; }

    /// <summary>The gateway's service name (<c>mesh-gateway</c> by default).</summary>
    public required string Service { get; init; }

    /// <summary>The datacenter the gateway serves (the agent's).</summary>
    public required string Datacenter { get; init; }

    /// <summary>The LAN address (tagged address <c>lan</c>, else the service address and port): where local sidecars reach it.</summary>
    public required IPEndPoint LanAddress { get; init; }

    /// <summary>The WAN address (tagged address <c>wan</c>, else the LAN address): where other datacenters' gateways reach it.</summary>
    public required IPEndPoint WanAddress { get; init; }

    /// <summary>Reads a mesh gateway's registration once, at start.</summary>
    /// <param name="client">The local agent.</param>
    /// <param name="serviceId">The gateway's service ID.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <exception cref="InvalidOperationException">No such service, not a mesh gateway, or no usable IP address and port; the message says which.</exception>
    /// <exception cref="ConsulPermissionDeniedException">The token lacks <c>service:read</c> on the gateway.</exception>
    public static async Task<ConsulMeshGatewayRegistration> ReadAsync(ConsulAgentClient client, string serviceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(serviceId);
        ConsulResponse response;
        try
        {
            response = await client.SendAsync(
                ConsulRequest.Get("/v1/agent/service/" + Uri.EscapeDataString(serviceId), "service:read on the mesh gateway"), null, null, cancellationToken).ConfigureAwait(false);
        }
        catch (ConsulRequestException exception)
        {
            throw new InvalidOperationException($"Cannot read mesh gateway '{serviceId}' from the Consul agent at {client.AgentAddress}: {exception.Message}", exception);
        }

        AgentServiceDto dto;
        try
        {
            dto = JsonSerializer.Deserialize(response.Body, ConsulJsonContext.Default.AgentServiceDto) ?? throw new JsonException("null");
        }
        catch (JsonException exception)
        {
            throw new InvalidOperationException($"The Consul agent's answer for service '{serviceId}' is not a service registration.", exception);
        }

        if (dto.Kind != "mesh-gateway")
        {
            throw new InvalidOperationException($"Service '{serviceId}' is registered with Kind '{dto.Kind}', not 'mesh-gateway'; name the gateway's own service ID.");
        }

        if (string.IsNullOrEmpty(dto.Datacenter))
        {
            throw new InvalidOperationException($"The Consul agent's registration of '{serviceId}' names no Datacenter (Consul 1.10 or later gives it).");
        }

        IPEndPoint lan = Tagged(dto, "lan") ?? Plain(dto)
            ?? throw new InvalidOperationException($"Mesh gateway '{serviceId}' has no IP address and port to listen on: register it with an Address (or a 'lan' tagged address) and a Port.");
        return new ConsulMeshGatewayRegistration
        {
            ServiceId = serviceId,
            Service = dto.Service ?? "mesh-gateway",
            Datacenter = dto.Datacenter,
            LanAddress = lan,
            WanAddress = Tagged(dto, "wan") ?? lan,
        };
    }

    private static IPEndPoint? Tagged(AgentServiceDto dto, string tag) =>
        dto.TaggedAddresses?.TryGetValue(tag, out ServiceAddressDto? tagged) == true && tagged is not null
            && IPAddress.TryParse(tagged.Address, out IPAddress? ip) && tagged.Port is > 0 and <= 65535
            ? new IPEndPoint(ip, tagged.Port)
            : null;

    private static IPEndPoint? Plain(AgentServiceDto dto) =>
        IPAddress.TryParse(dto.Address, out IPAddress? ip) && dto.Port is > 0 and <= 65535 ? new IPEndPoint(ip, dto.Port) : null;
}
