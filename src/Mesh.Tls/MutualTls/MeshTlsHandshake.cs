using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.Tls.Validation;

namespace Mesh.Tls.MutualTls;

/// <summary>
/// The options for one mutual TLS handshake and, once it ran, the validation result of the peer's certificate, so the caller gets
/// the peer's SPIFFE ID without parsing the certificate again.
/// </summary>
/// <remarks>
/// In TLS 1.3 a client finishes its handshake before the server has checked the client certificate: a refusal by the server reaches
/// the client as an error on its first read, not from <c>AuthenticateAsClientAsync</c>.
/// </remarks>
internal sealed class MeshTlsHandshake
{
    private readonly SvidValidator _validator;
    private readonly PeerAuthorizer _authorizer;
    private readonly TrustBundle _bundle;
    private readonly DateTimeOffset _now;

    internal MeshTlsHandshake(SvidValidator validator, PeerAuthorizer authorizer, TrustBundle bundle, DateTimeOffset now)
    {
        _validator = validator;
        _authorizer = authorizer;
        _bundle = bundle;
        _now = now;
        Result = new SvidValidationResult(SvidValidationStatus.NoCertificate, default, detail: "The handshake has not validated a peer certificate yet.");
    }

    /// <summary>Options for <see cref="SslStream.AuthenticateAsServerAsync(SslServerAuthenticationOptions, CancellationToken)"/>; null on a client handshake.</summary>
    public SslServerAuthenticationOptions? ServerOptions { get; internal set; }

    /// <summary>Options for <see cref="SslStream.AuthenticateAsClientAsync(SslClientAuthenticationOptions, CancellationToken)"/>; null on a server handshake.</summary>
    public SslClientAuthenticationOptions? ClientOptions { get; internal set; }

    /// <summary>The validation result of the peer's certificate: its SPIFFE ID, or the rule it broke.</summary>
    public SvidValidationResult Result { get; private set; }

    internal bool PeerChecked { get; private set; }

    internal bool ValidatePeer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        PeerChecked = true;
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            Result = _validator.Validate(null);
            return false;
        }

        // Identities are SPIFFE URIs, not host names, and the platform was given no anchor, so its flags say nothing: the validator
        // checks the path itself (with the certificates the peer sent) and names the rule a refused certificate broke.
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        Result = chain is not null
            ? _validator.ValidateBuiltChain(leaf, chain, _bundle, _now, _authorizer)
            : _validator.Validate(leaf, null, _authorizer);
        return Result.IsValid;
    }
}
