using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.Tls.Validation;

namespace Mesh.Tls.Sidecar;

/// <summary>
/// The TLS settings of the sidecar's two sides: the current leaf served through a cached <see cref="SslStreamCertificateContext"/>,
/// TLS 1.2 minimum, no renegotiation, client certificates required, and every peer checked by the <see cref="SvidValidator"/>.
/// </summary>
internal sealed class SidecarTls(ILeafSource leaves, SvidValidator validator)
{
    // One context per leaf: built once per rotation, shared by every handshake that uses that leaf.
    private readonly ConditionalWeakTable<LeafCertificate, SslStreamCertificateContext> _contexts = [];

    public SslStreamCertificateContext CurrentContext()
    {
        LeafCertificate leaf = leaves.Current ?? throw new InvalidOperationException("The sidecar has no leaf certificate yet.");
        return _contexts.GetValue(leaf, static l => SslStreamCertificateContext.Create(l.Certificate, [.. l.Intermediates], offline: true));
    }

    public SslClientAuthenticationOptions ClientOptions(string sni, PeerAuthorizer expectedServer, PeerCheck check) => new()
    {
        TargetHost = sni,
        ClientCertificateContext = CurrentContext(),
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        AllowRenegotiation = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = check.Callback(validator, expectedServer),
    };

    public SslServerAuthenticationOptions ServerOptions(PeerCheck check) => new()
    {
        ServerCertificateContext = CurrentContext(),
        ClientCertificateRequired = true,
        EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        AllowRenegotiation = false,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        RemoteCertificateValidationCallback = check.Callback(validator, PeerAuthorizer.AnyValid),
    };

    /// <summary>Holds the outcome of one handshake's peer validation, for the log line and the authorization that follow.</summary>
    internal sealed class PeerCheck
    {
        public SvidValidationResult Result { get; private set; }

        public RemoteCertificateValidationCallback Callback(SvidValidator validator, PeerAuthorizer authorizer) => (_, certificate, chain, _) =>
        {
            // The peer's own certificates are only intermediates, never anchors (X509-SVID §5.1).
            var intermediates = new List<X509Certificate2>();
            if (chain is not null)
            {
                foreach (X509Certificate2 extra in chain.ChainPolicy.ExtraStore)
                {
                    intermediates.Add(extra);
                }
            }

            Result = validator.Validate(certificate as X509Certificate2, intermediates, authorizer);
            return Result.IsValid;
        };
    }
}
