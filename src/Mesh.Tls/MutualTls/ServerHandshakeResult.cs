using Mesh.Tls.Validation;

namespace Mesh.Tls.MutualTls;

/// <summary>
/// How one server-side mutual TLS handshake ended: the validation result of the caller's certificate (the placeholder
/// <see cref="SvidValidationStatus.NoCertificate"/> result when the handshake failed before a certificate was judged) and the
/// failure, if any. <see cref="CertificateJudged"/> tells a refused certificate from a handshake that never reached one.
/// </summary>
internal readonly record struct ServerHandshakeResult(SvidValidationResult Validation, bool CertificateJudged, Exception? Error)
{
    /// <summary>Whether the handshake completed with a valid caller certificate.</summary>
    public bool Succeeded => Error is null;
}
