namespace Mesh.Diagnostics;

/// <summary>
/// Every log event ID Mesh uses, in one registry so that IDs stay unique (a test checks it) and operators can filter on them.
/// Each area owns a block of 100.
/// </summary>
public static class MeshLogEvents
{
    // 1000–1099: splicer.

    /// <summary>A splice ended; the message says how and how many bytes moved.</summary>
    public const int SpliceCompleted = 1000;

    /// <summary>A splice ended with an error or a reset.</summary>
    public const int SpliceFailed = 1001;

    /// <summary>The kernel splice path is unavailable and the managed copy loop is used.</summary>
    public const int SpliceKernelPathUnavailable = 1002;

    /// <summary>An accept loop is backing off because the process ran out of file descriptors.</summary>
    public const int AcceptBackoff = 1003;

    // 1100–1199: endpoint health (outlier ejection, the sidecar's check of its local application).

    /// <summary>An endpoint was taken out of rotation after consecutive connect failures.</summary>
    public const int EndpointEjected = 1100;

    /// <summary>An ejected endpoint's period ended; it is back in rotation.</summary>
    public const int EndpointReturned = 1101;

    /// <summary>Every endpoint of a list was ejected, so all are tried.</summary>
    public const int EndpointAllEjected = 1102;

    /// <summary>A sidecar's check of its local application changed result; the sidecar refuses or accepts inbound connections.</summary>
    public const int LocalAppHealthChanged = 1103;

    // 2000–2099: mesh gateway and SNI routing.

    /// <summary>A gateway routed a connection by SNI.</summary>
    public const int GatewayRouted = 2000;

    /// <summary>A gateway closed a connection whose SNI matched no route.</summary>
    public const int GatewayNoRoute = 2001;

    /// <summary>A gateway closed a connection whose first bytes were not a TLS ClientHello, or an invalid one.</summary>
    public const int GatewayInvalidClientHello = 2002;

    /// <summary>A gateway closed a connection that sent no complete ClientHello in time.</summary>
    public const int GatewayClientHelloTimeout = 2003;

    /// <summary>A gateway could not connect to an endpoint and tried the next one.</summary>
    public const int GatewayEndpointFailed = 2004;

    /// <summary>A gateway closed a connection because no endpoint of its route accepted a connection.</summary>
    public const int GatewayNoEndpoint = 2005;

    /// <summary>A client closed its connection before its ClientHello was complete.</summary>
    public const int GatewayClosedBeforeClientHello = 2006;

    /// <summary>A gateway refused a connection because a listener limit was reached.</summary>
    public const int GatewayLimitReached = 2007;

    /// <summary>A gateway rebuilt its SNI routes from the catalog.</summary>
    public const int GatewayRoutesBuilt = 2008;

    /// <summary>A gateway's connection loop failed unexpectedly; the connections it held were reset.</summary>
    public const int GatewayLoopFailed = 2009;

    /// <summary>The system refused the gateway loop's batch scheduling policy; the loop runs under the normal policy.</summary>
    public const int GatewayBatchSchedulingRefused = 2010;

    // 3000–3099: mutual TLS and peer validation. (3000 is retired: a refused handshake is PeerRejected, with the reason.)

    /// <summary>A peer's certificate was refused; the message names the rule.</summary>
    public const int PeerRejected = 3001;

    // 4000–4099: authorization.

    /// <summary>A connection or request was allowed.</summary>
    public const int AuthorizationAllowed = 4000;

    /// <summary>A connection or request was denied; the message carries the intention ID and precedence.</summary>
    public const int AuthorizationDenied = 4001;

    /// <summary>A new intention set was loaded.</summary>
    public const int IntentionsLoaded = 4002;

    // 5000–5099: certificate authority.

    /// <summary>The CA signed a certificate.</summary>
    public const int CaSigned = 5000;

    /// <summary>The CA refused a CSR.</summary>
    public const int CaRejected = 5001;

    /// <summary>The CA rotated its root.</summary>
    public const int CaRootRotated = 5002;

    /// <summary>A reload of the control-plane file added, removed or replaced a CA token entry; the message names the entry, never the token.</summary>
    public const int CaTokensChanged = 5010;

    /// <summary>A client address was refused for too many failed authorizations at the CA.</summary>
    public const int CaAuthorizationsLimited = 5011;
    /// <summary>The CA created a new root (first start, or no key directory).</summary>
    public const int CaRootCreated = 5050;

    /// <summary>The CA loaded its root from its key directory or the operator's PEM.</summary>
    public const int CaRootLoaded = 5051;

    // 6000–6099: leaf rotation.

    /// <summary>A leaf was renewed.</summary>
    public const int LeafRenewed = 6000;

    /// <summary>A leaf renewal failed and will be retried.</summary>
    public const int LeafRenewalFailed = 6001;

    /// <summary>The next renewal was scheduled.</summary>
    public const int LeafRenewalScheduled = 6002;

    /// <summary>The exception behind a failed renewal or CA request (Debug: the Warning line carries only its message).</summary>
    public const int LeafRenewalFailureDetail = 6003;

    /// <summary>The CA refused to sign for good (wrong token, bad CSR): retrying cannot help.</summary>
    public const int LeafRenewalRefused = 6004;

    /// <summary>The exception behind a failed request of the CA client (Debug: the Warning line carries only its message).</summary>
    public const int CaClientFailureDetail = 6005;

    // 7000–7099: control plane.

    /// <summary>The control-plane configuration was loaded or reloaded.</summary>
    public const int ControlPlaneLoaded = 7000;

    /// <summary>The control-plane configuration is invalid; the previous one stays in force.</summary>
    public const int ControlPlaneInvalid = 7001;

    /// <summary>A new trust bundle was received from the CA.</summary>
    public const int TrustBundleUpdated = 7002;

    /// <summary>The trust bundle could not be fetched from the CA; it will be retried.</summary>
    public const int TrustBundleFetchFailed = 7003;

    /// <summary>Reading the control-plane file failed unexpectedly during a reload; the previous configuration stays in force.</summary>
    public const int ControlPlaneReloadFailed = 7020;

    // 8000–8099: sidecar and in-process listeners. (8001 is retired: an accepted connection is logged once decided, as AuthorizationAllowed.)

    /// <summary>A listener started.</summary>
    public const int ListenerStarted = 8000;

    /// <summary>An upstream connection could not be made.</summary>
    public const int UpstreamConnectFailed = 8002;

    /// <summary>The local application could not be reached.</summary>
    public const int LocalAppUnreachable = 8003;

    /// <summary>An upstream listener accepted a connection and connected it over mTLS; the message names both TCP sessions.</summary>
    public const int UpstreamConnected = 8004;

    /// <summary>An authorized inbound connection was connected to the local application; the message names the TCP session.</summary>
    public const int LocalAppConnected = 8005;

    /// <summary>A listener stopped accepting and is draining its connections.</summary>
    public const int ListenerDraining = 8006;

    /// <summary>An upstream endpoint refused or timed out and the next one is tried.</summary>
    public const int UpstreamEndpointFailed = 8008;

    /// <summary>An upstream listener started.</summary>
    public const int UpstreamListenerStarted = 8007;

    /// <summary>An upstream added to a running sidecar cannot be served (its address is in use or not local, or its kind is unsupported); the others are unaffected.</summary>
    public const int UpstreamListenerFailed = 8009;

    // 9000–9099: in-process mesh. (9001 and 9002 are retired: an in-process dial is logged as UpstreamConnected or UpstreamConnectFailed, as a sidecar's.)

    /// <summary>An in-process mesh service has its first leaf and trust bundle and is ready.</summary>
    public const int InProcessReady = 9000;

    /// <summary>An in-process service accepted an authenticated, authorized connection.</summary>
    public const int InProcessAccepted = 9003;

    /// <summary>An in-process mesh listener started.</summary>
    public const int InProcessListening = 9004;

    /// <summary>An in-process service stopped.</summary>
    public const int InProcessStopped = 9005;

    /// <summary>An HTTP request on a mesh connection was denied by an L7 intention and answered 403.</summary>
    public const int InProcessRequestDenied = 9006;

    // 10000–10099: Consul agent client.

    /// <summary>A Consul blocking query could not reach the agent; the source keeps its last good value. Logged once per outage.</summary>
    public const int ConsulAgentUnreachable = 10000;

    /// <summary>The Consul agent did not answer a query in time; the source keeps its last good value. Logged once per outage.</summary>
    public const int ConsulAgentTimedOut = 10001;

    /// <summary>The Consul agent answered a query with a server error (5xx or 429); the source keeps its last good value. Logged once per outage.</summary>
    public const int ConsulAgentServerError = 10002;

    /// <summary>The Consul agent refused a query for lack of an ACL permission (403); the source stops and names the permission.</summary>
    public const int ConsulPermissionDenied = 10003;

    /// <summary>The Consul agent's answer could not be read; the source keeps its last good value. Logged once per outage.</summary>
    public const int ConsulInvalidResponse = 10004;

    /// <summary>The Consul agent does not know what a query asked for (404); the source keeps its last good value. Logged once per outage.</summary>
    public const int ConsulNotFound = 10005;

    /// <summary>A Consul query answers again after an outage.</summary>
    public const int ConsulRecovered = 10006;

    /// <summary>A Consul query returned a changed value.</summary>
    public const int ConsulValueChanged = 10007;

    /// <summary>A Consul query's index went backwards (agent restart or server snapshot restore) and was reset to 0.</summary>
    public const int ConsulIndexReset = 10008;

    /// <summary>A Consul catalog entry was skipped because it cannot be dialled (no IP address or port).</summary>
    public const int ConsulEntrySkipped = 10009;
}
