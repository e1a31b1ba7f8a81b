namespace Mesh.Diagnostics;

/// <summary>
/// The names of the <see cref="System.Diagnostics.ActivitySource"/>s Mesh traces with and of the spans they start, so that a
/// tracer (<c>AddSource(MeshActivitySources.Tls)</c> in OpenTelemetry, or an <c>ActivityListener</c>) can subscribe. With no
/// listener a source starts nothing and the connection paths allocate nothing for tracing. docs/observability.md lists every
/// span's attributes.
/// </summary>
public static class MeshActivitySources
{
    /// <summary>The source of Mesh.Tls: sidecar and in-process connections (inbound and outbound) and CA signings.</summary>
    public const string Tls = "Mesh.Tls";

    /// <summary>The source of Mesh.Sni: the mesh gateway's route decision for each connection.</summary>
    public const string Gateway = "Mesh.Gateway";

    /// <summary>
    /// Span (server): an inbound mesh connection from accept through the mTLS handshake and the intention decision to the
    /// hand-off to the application; events mark each step.
    /// </summary>
    public const string InboundConnection = "mesh.inbound";

    /// <summary>Span (client): an outbound mesh connection, from the dial through the mTLS handshake to the hand-off.</summary>
    public const string OutboundConnection = "mesh.outbound";

    /// <summary>Span (internal): the CA checking and signing a certificate signing request.</summary>
    public const string CaSign = "mesh.ca.sign";

    /// <summary>Span (server): a gateway's route decision for a connection, once its ClientHello is read.</summary>
    public const string GatewayRoute = "mesh.gateway.route";
}
