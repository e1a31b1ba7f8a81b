using System.Net;

namespace Mesh.Tls.Outbound;

/// <summary>The timeouts and source address of one component's dials (a sidecar's, an in-process service's).</summary>
/// <param name="ConnectTimeout">How long connecting to one endpoint may take before the next is tried.</param>
/// <param name="HandshakeTimeout">How long the mTLS handshake may take.</param>
/// <param name="SourceAddress">The address outbound connections come from; the system's choice when null.</param>
internal sealed record MeshDialerSettings(TimeSpan ConnectTimeout, TimeSpan HandshakeTimeout, IPAddress? SourceAddress);
