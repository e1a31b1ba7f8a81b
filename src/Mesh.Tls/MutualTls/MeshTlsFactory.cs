using System.Net.Security;
using System.Runtime.ExceptionServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Mesh.Configuration;
using Mesh.ControlPlane;
using Mesh.Tls.Configuration;
using Mesh.Tls.Validation;

namespace Mesh.Tls.MutualTls;

/// <summary>
/// Builds <see cref="SslServerAuthenticationOptions"/> and <see cref="SslClientAuthenticationOptions"/> for mesh mutual TLS and runs
/// handshakes: TLS 1.2 minimum (Envoy-based Consul sidecars speak it), 1.3 preferred, no renegotiation, a client certificate required,
/// the current leaf and its chain served through <see cref="SslStreamCertificateContext"/>, peers validated as X.509-SVIDs.
/// </summary>
/// <remarks>
/// Each handshake reads the leaf source and the bundle afresh, so a rotated leaf or bundle applies to new connections while open
/// ones keep theirs. The chain policy given to the platform holds no anchor (see <see cref="SvidValidator.CreatePlatformPolicy"/>):
/// the validator checks the path once per certificate and serves repeat peers from its cache; resumption is off unless
/// <see cref="MeshTlsOptions.AllowTlsResume"/> says otherwise.
/// </remarks>
public sealed class MeshTlsFactory
{
    // Both sides of a mesh handshake: TLS 1.2 as the floor because Consul's Envoy sidecars still negotiate it, 1.3 when the peer
    // offers it. The server and client option types share no base class, so each initialiser names the same settings: this
    // constant, no renegotiation, the configured resumption, no revocation (leaves live hours), the anchorless chain policy, the
    // SVID callback and ApplicationProtocols().
    private const SslProtocols MeshProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private readonly ILeafSource _leaves;
    private readonly SvidValidator _validator;
    private readonly MeshTlsOptions _options;
    private ContextHolder? _context;

    /// <summary>Creates a factory.</summary>
    public MeshTlsFactory(ILeafSource leaves, SvidValidator validator, MeshTlsOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentNullException.ThrowIfNull(validator);
        _leaves = leaves;
        _validator = validator;
        _options = options ?? new MeshTlsOptions();
        _options.ThrowIfInvalid(MeshTlsOptionsValidator.Instance);
    }

    /// <summary>Creates server options for one connection, presenting the current leaf and requiring a client certificate.</summary>
    /// <exception cref="InvalidOperationException">No leaf is available yet.</exception>
    internal MeshTlsHandshake CreateServerHandshake(PeerAuthorizer authorizer)
    {
        ArgumentNullException.ThrowIfNull(authorizer);
        MeshTlsHandshake handshake = NewHandshake(authorizer, out X509ChainPolicy policy);
        handshake.ServerOptions = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = GetContext(),
            ClientCertificateRequired = true,
            EnabledSslProtocols = MeshProtocols,
            AllowRenegotiation = false,
            AllowTlsResume = _options.AllowTlsResume,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = policy,
            RemoteCertificateValidationCallback = handshake.ValidatePeer,
            ApplicationProtocols = ApplicationProtocols(),
        };
        return handshake;
    }

    /// <summary>Creates client options for one connection, with the SNI to send (a Consul SNI name, e.g. <c>web.default.dc1.internal.&lt;TD&gt;</c>).</summary>
    /// <exception cref="InvalidOperationException">No leaf is available yet.</exception>
    internal MeshTlsHandshake CreateClientHandshake(string serverName, PeerAuthorizer authorizer)
    {
        ArgumentException.ThrowIfNullOrEmpty(serverName);
        ArgumentNullException.ThrowIfNull(authorizer);
        MeshTlsHandshake handshake = NewHandshake(authorizer, out X509ChainPolicy policy);
        handshake.ClientOptions = new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            ClientCertificateContext = GetContext(),
            EnabledSslProtocols = MeshProtocols,
            AllowRenegotiation = false,
            AllowTlsResume = _options.AllowTlsResume,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            CertificateChainPolicy = policy,
            RemoteCertificateValidationCallback = handshake.ValidatePeer,
            ApplicationProtocols = ApplicationProtocols(),
        };
        return handshake;
    }

    /// <summary>Accepts a mutual TLS connection and returns the validated peer.</summary>
    /// <exception cref="PeerAuthenticationException">The client's certificate was refused; the result names the rule.</exception>
    /// <exception cref="AuthenticationException">The handshake failed for another reason.</exception>
    public async ValueTask<SvidValidationResult> AuthenticateAsServerAsync(SslStream stream, PeerAuthorizer authorizer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ServerHandshakeResult handshake = await HandshakeAsServerAsync(stream, authorizer, Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        if (handshake.Error is { } error)
        {
            if (error is AuthenticationException && handshake.CertificateJudged && !handshake.Validation.IsValid)
            {
                throw new PeerAuthenticationException(handshake.Validation, error);
            }

            ExceptionDispatchInfo.Throw(error);
        }

        return handshake.Validation;
    }

    /// <summary>
    /// Runs the server side of a mutual TLS handshake within <paramref name="timeout"/> and returns how it ended as a value: the
    /// caller's validated SVID, or the failure with the rule the certificate broke. Failures a caller can cause (a refused
    /// certificate, plain text, a closed connection, a timeout) are results, not exceptions.
    /// </summary>
    /// <exception cref="InvalidOperationException">No leaf is available yet.</exception>
    internal async ValueTask<ServerHandshakeResult> HandshakeAsServerAsync(SslStream stream, PeerAuthorizer authorizer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        MeshTlsHandshake handshake = CreateServerHandshake(authorizer);
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                deadline.CancelAfter(timeout);
            }

            await stream.AuthenticateAsServerAsync(handshake.ServerOptions!, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or InvalidOperationException)
        {
            // Failed before the caller's certificate was judged (plain text, a timeout, a closed connection): no rule was broken,
            // and the result says nothing more than that there is no certificate.
            return new ServerHandshakeResult(handshake.PeerChecked ? handshake.Result : NotJudged, handshake.PeerChecked, ex);
        }

        return new ServerHandshakeResult(handshake.Result, handshake.PeerChecked, null);
    }

    /// <summary>
    /// Runs the client side of a mutual TLS handshake within <paramref name="timeout"/>, sending <paramref name="serverName"/> as
    /// SNI, and returns how it ended as a value: the server's validated SVID, or the failure with the rule its certificate broke.
    /// Failures a server can cause (a refused certificate, a closed connection, a timeout) are results, not exceptions.
    /// </summary>
    internal async ValueTask<ClientHandshakeResult> HandshakeAsClientAsync(
        SslStream stream, string serverName, PeerAuthorizer authorizer, TimeSpan timeout, CancellationToken cancellationToken)
    {
        MeshTlsHandshake handshake;
        try
        {
            handshake = CreateClientHandshake(serverName, authorizer);
        }
        catch (InvalidOperationException ex)
        {
            // No leaf yet: nothing was sent, and the caller reports it as a failed handshake.
            return new ClientHandshakeResult(NotJudged, false, ex);
        }

        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            await stream.AuthenticateAsClientAsync(handshake.ClientOptions!, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException or InvalidOperationException)
        {
            return new ClientHandshakeResult(handshake.PeerChecked ? handshake.Result : NotJudged, handshake.PeerChecked, ex);
        }

        return new ClientHandshakeResult(handshake.Result, true, null);
    }

    /// <summary>
    /// Dials mutual TLS and returns the validated server. In TLS 1.3 the server may still refuse this client's certificate after this
    /// returns: that refusal surfaces on the first read.
    /// </summary>
    /// <exception cref="PeerAuthenticationException">The server's certificate was refused; the result names the rule.</exception>
    /// <exception cref="AuthenticationException">The handshake failed for another reason.</exception>
    public async ValueTask<SvidValidationResult> AuthenticateAsClientAsync(SslStream stream, string serverName, PeerAuthorizer authorizer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        MeshTlsHandshake handshake = CreateClientHandshake(serverName, authorizer);
        try
        {
            await stream.AuthenticateAsClientAsync(handshake.ClientOptions!, cancellationToken).ConfigureAwait(false);
        }
        catch (AuthenticationException ex) when (handshake.PeerChecked && !handshake.Result.IsValid)
        {
            throw new PeerAuthenticationException(handshake.Result, ex);
        }

        return handshake.Result;
    }

    // A copy per handshake, so a later change to the options' list never reaches a handshake in flight; null when none is configured.
    private List<SslApplicationProtocol>? ApplicationProtocols() =>
        _options.ApplicationProtocols.Count > 0 ? [.. _options.ApplicationProtocols] : null;

    private static SvidValidationResult NotJudged => new(SvidValidationStatus.NoCertificate, default);

    private MeshTlsHandshake NewHandshake(PeerAuthorizer authorizer, out X509ChainPolicy policy)
    {
        TrustBundle bundle = _validator.Bundles.Current;
        DateTimeOffset now = _validator.TimeProvider.GetUtcNow();
        policy = SvidValidator.CreatePlatformPolicy(now);
        return new MeshTlsHandshake(_validator, authorizer, bundle, now);
    }

    // One context per leaf snapshot: built once when the leaf changes, shared by every handshake until the next rotation.
    private SslStreamCertificateContext GetContext()
    {
        LeafCertificate leaf = _leaves.Current ?? throw new InvalidOperationException("No leaf certificate is available yet; wait for the leaf source's first leaf.");
        ContextHolder? holder = Volatile.Read(ref _context);
        if (holder is not null && ReferenceEquals(holder.Leaf, leaf))
        {
            return holder.Context;
        }

        var intermediates = new X509Certificate2Collection();
        foreach (X509Certificate2 intermediate in leaf.Intermediates)
        {
            intermediates.Add(intermediate);
        }

        holder = new ContextHolder(leaf, SslStreamCertificateContext.Create(leaf.Certificate, intermediates, offline: true));
        Volatile.Write(ref _context, holder);
        return holder.Context;
    }

    private sealed record ContextHolder(LeafCertificate Leaf, SslStreamCertificateContext Context);
}
