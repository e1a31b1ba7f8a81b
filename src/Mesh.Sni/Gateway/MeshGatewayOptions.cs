using System.Net;
using Mesh.Endpoints;
using Mesh.Identity;
using Mesh.Splicing;

namespace Mesh.Sni.Gateway;

/// <summary>
/// Settings of a <see cref="MeshGateway"/>. Defaults follow Envoy's listener filters and Consul's gateways; the gateway's
/// constructor checks them and throws an <c>OptionsValidationException</c> naming each option out of range.
/// </summary>
public sealed class MeshGatewayOptions
{
    /// <summary>The gateway's own datacenter: its services are routed by exact SNI, every other datacenter by wildcard.</summary>
    public string Datacenter { get; set; } = string.Empty;

    /// <summary>The mesh's trust domain, the suffix of every SNI name the gateway routes.</summary>
    public TrustDomain TrustDomain { get; set; }

    /// <summary>Where the gateway accepts connections (Consul gives a gateway a LAN and a WAN address). Port 0 picks a free port.</summary>
    public IList<IPEndPoint> ListenEndPoints { get; } = [];

    /// <summary>The source address of outbound connections; the system picks one when null.</summary>
    public IPAddress? OutboundAddress { get; set; }

    /// <summary>How long a client may take to send its whole ClientHello (15 s, as Envoy's listener filter timeout).</summary>
    public TimeSpan ClientHelloTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long connecting to one endpoint may take before the next is tried (5 s, as Consul's gateways).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The most connections a listener holds at once; more are closed on accept.</summary>
    public int MaxConnections { get; set; } = 8_000;

    /// <summary>The most connections per listener still sending their ClientHello; more are closed on accept.</summary>
    public int MaxConcurrentClientHelloReads { get; set; } = 1_000;

    /// <summary>The largest ClientHello handshake accepted (64 KiB, as Envoy's tls_inspector).</summary>
    public int MaxClientHelloSize { get; set; } = Mesh.Sni.ClientHello.ClientHelloParser.DefaultMaxHandshakeLength;

    /// <summary>
    /// How the spliced connections behave. The kernel path is on by default since a gateway never reads past the ClientHello;
    /// on Linux the gateway's own loop copies handshake-sized transfers through one buffer and moves a direction with
    /// splice(2) once a read fills that buffer. A <see cref="SpliceOptions.TimeProvider"/> other than the system's runs the
    /// gateway on the socket engine instead (the loop's deadlines read the system clock).
    /// </summary>
    public SpliceOptions Splice { get; set; } = SpliceOptions.Default;

    /// <summary>
    /// Whether the gateway's loop thread runs under Linux's SCHED_BATCH policy (true by default). Woken by traffic, it then
    /// does not preempt the task running on its CPU: it runs when that task blocks or its slice ends and handles everything
    /// that has arrived by then in one pass, so a TLS connection costs it fewer context switches. On a host whose CPUs are all
    /// busy a wake-up can wait up to one scheduler slice; set false to keep wake-up preemption. A process started under another
    /// policy (real-time, idle) keeps it. Not used on the socket engine or on other systems.
    /// </summary>
    public bool BatchScheduling { get; set; } = true;

    /// <summary>
    /// When an endpoint that refuses connections leaves the rotation and for how long (Envoy's outlier detection: 3 consecutive
    /// connect failures, 30 s growing to 300 s). When every endpoint of a route is ejected, all are still tried.
    /// </summary>
    public OutlierDetectionOptions OutlierDetection { get; set; } = OutlierDetectionOptions.Default;
}
