using Mesh.Tls.Validation;

namespace Mesh.Tls.MutualTls;

/// <summary>
/// How one client-side mutual TLS handshake ended: the validation result of the server's certificate and the failure, if any.
/// <see cref="CertificateJudged"/> tells a refused server certificate from a handshake that never reached one.
/// </summary>
/// <remarks>
/// In TLS 1.3 the client finishes before the server has checked the client's certificate: a refusal by the server arrives on the
/// first read, not here.
/// </remarks>
internal readonly record struct ClientHandshakeResult(SvidValidationResult Validation, bool CertificateJudged, Exception? Error)
{
    /// <summary>Whether the handshake completed with a valid, authorized server certificate.</summary>
    public bool Succeeded => Error is null;
}
