using System.Diagnostics.Metrics;
using Mesh.Diagnostics;

namespace Mesh.Sni.Gateway;

/// <summary>
/// The gateway's instruments (<see cref="MeshMetrics.GatewayMeter"/>): connections by result and the connections held now.
/// Both engines record through it; the meter is disposed with it when no <see cref="IMeterFactory"/> owns it.
/// </summary>
internal sealed class GatewayMetrics : IDisposable
{
    private readonly Counter<long> _connections;
    private readonly UpDownCounter<long> _active;
    private readonly Meter? _ownedMeter;

    public GatewayMetrics(IMeterFactory? meterFactory)
    {
        Meter meter = meterFactory?.Create(MeshMetrics.GatewayMeter) ?? (_ownedMeter = new Meter(MeshMetrics.GatewayMeter));
        _connections = meter.CreateCounter<long>(MeshMetrics.GatewayConnections, description: "Connections accepted by mesh gateways, by result.");
        _active = meter.CreateUpDownCounter<long>(MeshMetrics.GatewayActiveConnections, description: "Connections mesh gateways hold.");
    }

    /// <summary>Counts one connection by how it ended up: routed, limit, no_route, not_tls, too_large, invalid, timeout, closed_early, connect_failed.</summary>
    public void Count(string result) => _connections.Add(1, new KeyValuePair<string, object?>(MeshMetrics.ResultTag, result));

    /// <summary>A connection was accepted (+1) or closed (-1).</summary>
    public void ActiveChanged(int delta) => _active.Add(delta);

    public void Dispose() => _ownedMeter?.Dispose();
}
