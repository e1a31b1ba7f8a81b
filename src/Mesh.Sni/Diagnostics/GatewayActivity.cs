using System.Diagnostics;
using System.Net;
using Mesh.Diagnostics;
using Mesh.Sni.Gateway;

namespace Mesh.Sni.Diagnostics;

/// <summary>
/// The <see cref="MeshActivitySources.GatewayRoute"/> span of <see cref="MeshActivitySources.Gateway"/>: one per connection,
/// when the gateway has read its ClientHello and decided where it goes (or that it goes nowhere). Attribute names follow
/// OpenTelemetry's semantic conventions (<c>network.peer.*</c>, <c>tls.client.server_name</c>, <c>error.type</c>), with
/// <c>mesh.route</c> for the chain chosen.
/// </summary>
/// <remarks>
/// Both engines call it at the same point. Callers test <see cref="Enabled"/> before reading anything for it (the event loop
/// reads the peer's address from raw sockaddr bytes), so without a listener routing allocates nothing for tracing.
/// </remarks>
internal static class GatewayActivity
{
    internal const string NetworkPeerAddress = "network.peer.address";
    internal const string NetworkPeerPort = "network.peer.port";
    internal const string TlsServerName = "tls.client.server_name";
    internal const string ErrorType = "error.type";
    internal const string Route = "mesh.route";
    internal const string Datacenter = "mesh.gateway.datacenter";
    internal const string ConnectionId = "mesh.connection.id";

    internal static readonly ActivitySource Source = new(MeshActivitySources.Gateway);

    /// <summary>Whether anyone listens: test it before reading what a span would carry.</summary>
    public static bool Enabled => Source.HasListeners();

    /// <summary>A connection is routed: its SNI matched <paramref name="route"/>.</summary>
    public static void Routed(long id, EndPoint? remote, string? sni, GatewayRoute route, string datacenter) =>
        Record(id, remote, sni, route, datacenter, null);

    /// <summary>A connection is refused before any upstream: <paramref name="errorType"/> says why (<c>no_route</c>, <c>not_tls</c>, <c>invalid</c>, <c>too_large</c>).</summary>
    public static void Refused(long id, EndPoint? remote, string? sni, string datacenter, string errorType) =>
        Record(id, remote, sni, null, datacenter, errorType);

    private static void Record(long id, EndPoint? remote, string? sni, GatewayRoute? route, string datacenter, string? errorType)
    {
        using Activity? activity = Source.StartActivity(MeshActivitySources.GatewayRoute, ActivityKind.Server);
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag(ConnectionId, id);
            activity.SetTag(Datacenter, datacenter);
            if (remote is IPEndPoint peer)
            {
                activity.SetTag(NetworkPeerAddress, peer.Address.ToString());
                activity.SetTag(NetworkPeerPort, peer.Port);
            }

            if (sni is not null)
            {
                activity.SetTag(TlsServerName, sni);
            }

            if (route is not null)
            {
                activity.SetTag(Route, route.ToString());
            }
        }

        if (errorType is not null)
        {
            activity.SetTag(ErrorType, errorType);
            activity.SetStatus(ActivityStatusCode.Error, errorType == "no_route" ? "no route matches the SNI" : "the first bytes are not a valid TLS ClientHello");
        }
    }
}
