using System.Net.Security;

namespace Mesh.Tls.MutualTls;

/// <summary>Settings of <see cref="MeshTlsFactory"/>.</summary>
public sealed class MeshTlsOptions
{
    /// <summary>ALPN protocols offered (client) or accepted (server), in preference order; none by default.</summary>
    public IList<SslApplicationProtocol> ApplicationProtocols { get; } = [];

    /// <summary>
    /// Whether TLS session resumption is allowed. Off by default: every connection then presents and validates a certificate, so a
    /// rotated leaf or removed root takes effect on the next connection; the validation cache keeps the cost low.
    /// </summary>
    public bool AllowTlsResume { get; set; }
}
