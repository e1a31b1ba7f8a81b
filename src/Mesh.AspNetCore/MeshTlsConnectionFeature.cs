using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Mesh.AspNetCore;

/// <summary>
/// Tells Kestrel the connection is TLS and which protocol it carries. Mesh TLS has no ALPN (the sidecar and Consul's proxies
/// send none), so the protocol is read from the first bytes: the HTTP/2 connection preface (RFC 9113 §3.4) means prior-knowledge h2.
/// </summary>
internal sealed class MeshTlsConnectionFeature(X509Certificate2? clientCertificate, ReadOnlyMemory<byte> applicationProtocol)
    : ITlsConnectionFeature, ITlsApplicationProtocolFeature
{
    public X509Certificate2? ClientCertificate { get; set; } = clientCertificate;

    public ReadOnlyMemory<byte> ApplicationProtocol { get; } = applicationProtocol;

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(ClientCertificate);
}
