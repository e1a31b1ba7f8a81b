namespace Mesh.Diagnostics;

/// <summary>
/// The names of every <see cref="System.Diagnostics.Metrics.Meter"/> and instrument Mesh publishes, in one place so that
/// dashboards and tests refer to the same strings. Listen with <c>MeterListener</c> or an OpenTelemetry exporter; Mesh depends on none.
/// </summary>
public static class MeshMetrics
{
    /// <summary>The meter of the TCP splicer.</summary>
    public const string SpliceMeter = "Mesh.Splice";

    /// <summary>The meter of the mesh gateway and ClientHello inspection.</summary>
    public const string GatewayMeter = "Mesh.Gateway";

    /// <summary>The meter of mutual TLS, certificates and the CA.</summary>
    public const string TlsMeter = "Mesh.Tls";

    /// <summary>The meter of intention decisions.</summary>
    public const string AuthorizationMeter = "Mesh.Authorization";

    /// <summary>The meter of endpoint health: outlier ejection and the sidecar's check of its local application.</summary>
    public const string EndpointsMeter = "Mesh.Endpoints";

    /// <summary>Counter: endpoints ejected after consecutive connect failures; tag <c>mesh.component</c> (gateway, sidecar).</summary>
    public const string EndpointEjections = "mesh.endpoint.ejections";

    /// <summary>Counter: changes of a sidecar's local-application check; tag <c>mesh.result</c> (healthy, unhealthy).</summary>
    public const string LocalAppHealthTransitions = "mesh.sidecar.local_app.transitions";

    /// <summary>Tag: the component that counted (gateway, sidecar).</summary>
    public const string ComponentTag = "mesh.component";

    /// <summary>Up-down counter: splices in progress.</summary>
    public const string SpliceActive = "mesh.splice.active";

    /// <summary>Counter, bytes: bytes moved by splices; tag <c>mesh.direction</c> = <c>forward</c> or <c>backward</c>.</summary>
    public const string SpliceBytes = "mesh.splice.bytes";

    /// <summary>Counter: finished splices; tag <c>mesh.splice.end</c> names how each ended.</summary>
    public const string SpliceCompleted = "mesh.splice.completed";

    /// <summary>Counter: connections accepted by a gateway; tag <c>mesh.result</c> (routed, no_route, not_tls, invalid, timeout, connect_failed).</summary>
    public const string GatewayConnections = "mesh.gateway.connections";

    /// <summary>Up-down counter: connections a gateway holds.</summary>
    public const string GatewayActiveConnections = "mesh.gateway.active_connections";

    /// <summary>Counter: mTLS handshakes; tags <c>mesh.side</c> (client, server) and <c>mesh.result</c>.</summary>
    public const string TlsHandshakes = "mesh.tls.handshakes";

    /// <summary>Histogram, seconds: mTLS handshake duration.</summary>
    public const string TlsHandshakeDuration = "mesh.tls.handshake.duration";

    /// <summary>Counter: peer certificate validations; tag <c>mesh.result</c> names the failed rule or <c>ok</c>.</summary>
    public const string PeerValidations = "mesh.tls.peer_validations";

    /// <summary>Counter: leaf renewals; tag <c>mesh.result</c> (ok, failed).</summary>
    public const string CertificateRenewals = "mesh.tls.certificate_renewals";

    /// <summary>Counter: certificates signed by the CA; tag <c>mesh.result</c> (ok, rejected, rate_limited).</summary>
    public const string CaSignings = "mesh.ca.signings";

    /// <summary>Counter: intention decisions; tags <c>mesh.result</c> (allow, deny) and <c>mesh.decided_by</c> (intention, default).</summary>
    public const string AuthorizationDecisions = "mesh.authz.decisions";

    /// <summary>Tag key: the direction of spliced bytes.</summary>
    public const string DirectionTag = "mesh.direction";

    /// <summary>Tag key: the outcome of an operation.</summary>
    public const string ResultTag = "mesh.result";

    /// <summary>Tag key: the TLS side.</summary>
    public const string SideTag = "mesh.side";

    /// <summary>Tag key: how a splice ended.</summary>
    public const string SpliceEndTag = "mesh.splice.end";

    /// <summary>Tag key: whether an intention or the default policy decided.</summary>
    public const string DecidedByTag = "mesh.decided_by";
}
