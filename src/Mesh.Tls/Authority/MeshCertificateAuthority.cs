using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Authority;

/// <summary>
/// The mesh's certificate authority, issuing certificates as Consul's built-in CA does (consul-semantics §4): roots and an
/// optional intermediate, leaves signed from PKCS #10 requests, root rotation by cross-signing, a signing rate limit.
/// </summary>
/// <remarks>
/// Keys stay in memory and nothing is written to a certificate store. Services obtain leaves by sending a CSR, so a CA key
/// never leaves the CA; <see cref="IssueLeaf"/> generates a key on the CA side for tests and dev mode only.
/// </remarks>
public sealed class MeshCertificateAuthority : IDisposable
{
    private readonly MeshCaOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SigningRateLimiter _limiter;
    private readonly InMemoryTrustBundleSource _bundles = new();
    private readonly Lock _lock = new();
    private CancellationTokenSource _signingKeyChanged = new();
    private State _state;
    private long _bundleVersion;
    private int _generation;

    /// <summary>Creates a CA with a new root (and intermediate, when configured).</summary>
    /// <exception cref="ArgumentException">The options break one of Consul's constraints; the message says which.</exception>
    public MeshCertificateAuthority(MeshCaOptions options, TimeProvider? timeProvider = null, ILogger<MeshCertificateAuthority>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<MeshCertificateAuthority>.Instance;
        _limiter = new SigningRateLimiter(options.SigningRateLimit, _time);
        MeshCaRoot root = CreateRoot(options.KeyType, _time.GetUtcNow());
        root.Active = true;
        _state = new State(root, [root]);
        PublishBundle();
    }

    /// <summary>The trust domain the CA signs for.</summary>
    public TrustDomain TrustDomain => _options.TrustDomain;

    /// <summary>The datacenter the CA signs for.</summary>
    public string Datacenter => _options.Datacenter;

    /// <summary>The root that signs new leaves (directly or through its intermediate).</summary>
    public MeshCaRoot ActiveRoot => Volatile.Read(ref _state).Active;

    /// <summary>Every root still trusted, the active one included.</summary>
    public IReadOnlyList<MeshCaRoot> Roots => Volatile.Read(ref _state).Roots;

    /// <summary>The trust bundle of this CA's trust domain; it changes when a root is added or removed.</summary>
    public ITrustBundleSource TrustBundleSource => _bundles;

    /// <summary>The SubjectKeyId of the certificate signing new leaves; a leaf whose AuthorityKeyId differs should be renewed.</summary>
    public ReadOnlyMemory<byte> ActiveSigningKeyId => ActiveRoot.SigningKeyId;

    /// <summary>A token that fires when <see cref="ActiveSigningKeyId"/> changes (a root rotation).</summary>
    public IChangeToken GetSigningKeyChangeToken() => new CancellationChangeToken(Volatile.Read(ref _signingKeyChanged).Token);

    /// <summary>Signs a DER PKCS #10 request after checking its signature and Consul's CSR rules.</summary>
    /// <param name="csr">The DER request.</param>
    /// <param name="ttl">The leaf TTL; the configured default (72 h) when null.</param>
    /// <exception cref="CertificateSigningException">The request was refused; <see cref="CertificateSigningException.Error"/> names the rule.</exception>
    public SignedCertificate SignCsr(ReadOnlyMemory<byte> csr, TimeSpan? ttl = null) => SignCsr(csr, authorize: null, ttl);

    /// <summary>
    /// Signs a CSR as <see cref="SignCsr(ReadOnlyMemory{byte}, TimeSpan?)"/> does, after asking <paramref name="authorize"/> whether
    /// the caller may obtain a certificate for the CSR's SPIFFE ID (as Consul's ACL <c>service:write</c> decides).
    /// </summary>
    /// <exception cref="CertificateSigningException">The CSR breaks a rule, the caller is not authorized (<see cref="CertificateSigningError.Unauthorized"/>), or the rate limit is exceeded.</exception>
    public SignedCertificate SignCsr(ReadOnlyMemory<byte> csr, Func<SpiffeId, bool>? authorize, TimeSpan? ttl = null) =>
        SignAuthorized(
            csr,
            authorize is null ? null : (id, _) => authorize(id) ? null : Refuse(CertificateSigningError.Unauthorized, $"The caller's token does not allow certificates for '{id}'."),
            ttl);

    /// <summary>
    /// Signs a CSR after <paramref name="authorize"/> has seen its SPIFFE ID and SANs: it returns null to allow, or the refusal
    /// (not authorized for the identity, a SAN the caller may not carry). The rate limit is taken only after it allows.
    /// </summary>
    internal SignedCertificate SignAuthorized(ReadOnlyMemory<byte> csr, Func<SpiffeId, CertificationRequest, CertificateSigningException?>? authorize, TimeSpan? ttl)
    {
        using Activity? activity = TlsActivity.StartSigning();
        try
        {
            TimeSpan lifetime = CheckTtl(ttl);
            CertificationRequest request = CertificationRequest.Parse(csr);
            SpiffeId id = CheckIdentity(request);
            if (authorize?.Invoke(id, request) is { } refusal)
            {
                throw refusal;
            }

            CheckRateLimit();
            using (request.ImportAndVerify())
            {
            }

            SignedCertificate signed = Issue(request.SubjectPublicKeyInfo.Span, id, request.DnsNames, request.IPAddresses, lifetime);
            TlsActivity.Signed(activity, signed.Id, signed.NotAfter);
            return signed;
        }
        catch (CertificateSigningException ex)
        {
            TlsMetrics.Shared.SigningRefused(ex.Error);
            TlsActivity.SigningRefused(activity, ex.Error, ex.Message);
            CaLog.Rejected(_logger, ex.Error, ex.Message);
            throw;
        }
    }

    /// <summary>Signs a PEM PKCS #10 request (<c>CERTIFICATE REQUEST</c>).</summary>
    /// <exception cref="CertificateSigningException">The request was refused.</exception>
    public SignedCertificate SignCsr(string csrPem, TimeSpan? ttl = null)
    {
        ArgumentNullException.ThrowIfNull(csrPem);
        byte[] der = MeshPem.DecodeSingle(csrPem, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
            ?? throw new CertificateSigningException(CertificateSigningError.MalformedRequest, "No PEM 'CERTIFICATE REQUEST' block was found.");
        return SignCsr(der, ttl);
    }

    /// <summary>
    /// Dev and test helper: generates an EC P-256 key on the CA side and issues a leaf for it, returned with its private key
    /// and chain. Production workloads send a CSR instead so their key never leaves them.
    /// </summary>
    /// <exception cref="CertificateSigningException">The ID is not one the CA signs for, the TTL is out of range, or the rate limit is hit.</exception>
    public LeafCertificate IssueLeaf(SpiffeId id, IReadOnlyList<string>? dnsNames = null, IReadOnlyList<IPAddress>? ipAddresses = null, TimeSpan? ttl = null)
    {
        TimeSpan lifetime = CheckTtl(ttl);
        CheckRateLimit();
        CheckIdentity(id);
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        SignedCertificate signed = Issue(key.ExportSubjectPublicKeyInfo(), id, dnsNames, ipAddresses, lifetime);
        return ToLeafCertificate(signed, key);
    }

    /// <summary>Turns an issued certificate and its private key into a <see cref="LeafCertificate"/> for TLS.</summary>
    internal static LeafCertificate ToLeafCertificate(SignedCertificate signed, ECDsa key)
    {
        using X509Certificate2 certificate = signed.LoadCertificate();
        X509Certificate2 withKey = certificate.CopyWithPrivateKey(key);
        var chain = new X509Certificate2[signed.IntermediatesDer.Count];
        for (int i = 0; i < chain.Length; i++)
        {
            chain[i] = X509CertificateLoader.LoadCertificate(signed.IntermediatesDer[i]);
        }

        return new LeafCertificate(withKey, chain, signed.Id);
    }

    /// <summary>
    /// Issues Consul's leaf profile for a public key that was already checked (the fast path behind <see cref="SignCsr(ReadOnlyMemory{byte}, TimeSpan?)"/>):
    /// the TBSCertificate is encoded from the template and signed once.
    /// </summary>
    internal SignedCertificate Issue(ReadOnlySpan<byte> subjectPublicKeyInfo, SpiffeId id, IReadOnlyList<string>? dnsNames, IReadOnlyList<IPAddress>? ipAddresses, TimeSpan lifetime)
    {
        State state = Volatile.Read(ref _state);
        MeshCaRoot root = state.Active;

        // Consul backdates by a minute for clock drift between the CA and peers.
        DateTimeOffset notBefore = Truncate(_time.GetUtcNow()) - TimeSpan.FromMinutes(1);
        DateTimeOffset notAfter = notBefore + lifetime;
        var profile = new CertificateProfile
        {
            IsCa = false,
            SubjectPublicKeyInfo = subjectPublicKeyInfo,
            Uri = id.Value,
            DnsNames = dnsNames,
            IPAddresses = ipAddresses,
            NotBefore = notBefore,
            NotAfter = notAfter,
        };
        byte[] der = CertificateEncoder.Issue(root.LeafSigner, root.LeafSignerName, ref profile);
        TlsMetrics.Shared.Signed();
        CaLog.Signed(_logger, id.Value, notAfter);
        return new SignedCertificate(der, state.LeafChain(_time.GetUtcNow()), id, notBefore, notAfter);
    }

    /// <summary>
    /// Rotates the root: a new root (and intermediate) becomes active, cross-signed by the old root so peers that trust only the old
    /// root still verify new leaves; the old root stays in the bundle until <see cref="RemoveRoot"/>.
    /// </summary>
    public MeshCaRoot RotateRoot(CaKeyType? keyType = null)
    {
        lock (_lock)
        {
            DateTimeOffset now = _time.GetUtcNow();
            State state = _state;
            MeshCaRoot old = state.Active;
            MeshCaRoot fresh = CreateRoot(keyType ?? _options.KeyType, now);

            // The cross-signed certificate is the new root's subject and key under the old root's signature (RFC 4210 §4.4).
            DateTimeOffset crossNotAfter = Min(now + _options.CrossSignedTtl, old.Certificate.NotAfter);
            var profile = new CertificateProfile
            {
                IsCa = true,
                Subject = fresh.Certificate.SubjectName.RawData,
                SubjectPublicKeyInfo = fresh.RootKey.SubjectPublicKeyInfo,
                SubjectKeyId = fresh.RootKey.SubjectKeyId,
                Uri = TrustDomain.Id.Value,
                NotBefore = Truncate(now),
                NotAfter = crossNotAfter,
            };
            fresh.CrossSignedDer = CertificateEncoder.Issue(old.RootKey, old.Certificate.SubjectName.RawData, ref profile);
            fresh.CrossSignedNotAfter = crossNotAfter;
            fresh.Active = true;
            old.Active = false;
            old.RotatedOutAt = now;

            Volatile.Write(ref _state, new State(fresh, [.. state.Roots, fresh]));
            PublishBundle();
            CancellationTokenSource previous = Interlocked.Exchange(ref _signingKeyChanged, new CancellationTokenSource());
            previous.Cancel();
            previous.Dispose();
            CaLog.RootRotated(_logger, TrustDomain.Name, crossNotAfter);
            return fresh;
        }
    }

    /// <summary>Removes an inactive root from the bundle: peers stop trusting it as soon as they see the new bundle.</summary>
    /// <exception cref="InvalidOperationException">The root is the active one.</exception>
    public bool RemoveRoot(MeshCaRoot root)
    {
        ArgumentNullException.ThrowIfNull(root);
        lock (_lock)
        {
            State state = _state;
            if (ReferenceEquals(root, state.Active))
            {
                throw new InvalidOperationException("The active root cannot be removed; rotate first.");
            }

            var remaining = new List<MeshCaRoot>(state.Roots.Length);
            foreach (MeshCaRoot r in state.Roots)
            {
                if (!ReferenceEquals(r, root))
                {
                    remaining.Add(r);
                }
            }

            if (remaining.Count == state.Roots.Length)
            {
                return false;
            }

            // With the old root gone its cross-signature proves nothing to anyone: stop sending it.
            state.Active.CrossSignedDer = null;
            Volatile.Write(ref _state, new State(state.Active, [.. remaining]));
            PublishBundle();
            return true;
        }
    }

    /// <summary>
    /// Removes the roots rotated out more than twice the leaf TTL ago, as Consul does: by then every leaf they signed has expired.
    /// </summary>
    /// <returns>How many roots were removed.</returns>
    public int PruneRoots()
    {
        DateTimeOffset cutoff = _time.GetUtcNow() - (2 * _options.LeafTtl);
        int removed = 0;
        foreach (MeshCaRoot root in Roots)
        {
            if (!root.Active && root.RotatedOutAt is { } at && at <= cutoff && RemoveRoot(root))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Disposes every CA key.</summary>
    public void Dispose()
    {
        foreach (MeshCaRoot root in Volatile.Read(ref _state).Roots)
        {
            root.RootKey.Dispose();
            root.IntermediateKey?.Dispose();
            root.Certificate.Dispose();
        }

        _signingKeyChanged.Dispose();
    }

    private MeshCaRoot CreateRoot(CaKeyType keyType, DateTimeOffset now)
    {
        int generation = Interlocked.Increment(ref _generation);
        CaSigningKey rootKey = CaSigningKey.Generate(keyType);
        byte[] rootName = CertificateEncoder.EncodeCommonName($"Mesh CA Root {generation} {TrustDomain.Name}");
        now = Truncate(now);
        var profile = new CertificateProfile
        {
            IsCa = true,
            Subject = rootName,
            SubjectPublicKeyInfo = rootKey.SubjectPublicKeyInfo,
            Uri = TrustDomain.Id.Value,
            NotBefore = now,
            NotAfter = now + _options.RootTtl,
        };
        byte[] rootDer = CertificateEncoder.Issue(rootKey, rootName, ref profile);

        CaSigningKey? intermediateKey = null;
        byte[]? intermediateDer = null;
        byte[] signerName = rootName;
        if (_options.UseIntermediate)
        {
            intermediateKey = CaSigningKey.Generate(keyType);
            signerName = CertificateEncoder.EncodeCommonName($"Mesh CA Intermediate {generation} {TrustDomain.Name}");
            var intermediate = new CertificateProfile
            {
                IsCa = true,
                Subject = signerName,
                SubjectPublicKeyInfo = intermediateKey.SubjectPublicKeyInfo,
                Uri = TrustDomain.Id.Value,
                NotBefore = now,
                NotAfter = now + _options.IntermediateTtl,
            };
            intermediateDer = CertificateEncoder.Issue(rootKey, rootName, ref intermediate);
        }

        return new MeshCaRoot(rootKey, rootDer, intermediateKey, intermediateDer) { LeafSignerName = signerName };
    }

    private void PublishBundle()
    {
        State state = _state;
        var roots = new X509Certificate2[state.Roots.Length];
        for (int i = 0; i < roots.Length; i++)
        {
            roots[i] = state.Roots[i].Certificate;
        }

        var map = new Dictionary<TrustDomain, IReadOnlyList<X509Certificate2>> { [TrustDomain] = roots };
        _bundles.Set(new TrustBundle(Interlocked.Increment(ref _bundleVersion), map));
    }

    private TimeSpan CheckTtl(TimeSpan? ttl)
    {
        TimeSpan lifetime = ttl ?? _options.LeafTtl;
        return lifetime >= _options.MinimumLeafTtl && lifetime <= _options.MaximumLeafTtl
            ? lifetime
            : throw Refuse(CertificateSigningError.TtlOutOfRange, $"The requested leaf TTL {lifetime} is outside the CA's limits {_options.MinimumLeafTtl}..{_options.MaximumLeafTtl}.");
    }

    private void CheckRateLimit()
    {
        if (!_limiter.TryAcquire())
        {
            throw Refuse(CertificateSigningError.RateLimited,
                $"The CA signs at most {_limiter.Rate} certificates per second (csr_max_per_second); retry after a short delay.");
        }
    }

    private SpiffeId CheckIdentity(CertificationRequest request)
    {
        // Consul: exactly one URI SAN, and no e-mail SAN.
        if (request.UriCount != 1)
        {
            throw Refuse(CertificateSigningError.UriSanCount, $"A CSR must carry exactly one URI SAN; this one carries {request.UriCount}.");
        }

        if (request.EmailCount != 0)
        {
            throw Refuse(CertificateSigningError.EmailSan, "A CSR must not carry an e-mail SAN.");
        }

        if (!SpiffeId.TryParse(request.Uri, out SpiffeId id, out SpiffeIdError error))
        {
            throw Refuse(CertificateSigningError.InvalidSpiffeId, $"The URI SAN is not a valid SPIFFE ID: {SpiffeId.Describe(error)} (rule {error}).");
        }

        CheckIdentity(id);
        return id;
    }

    private void CheckIdentity(SpiffeId id)
    {
        if (!MeshIdentity.TryParse(id, out MeshIdentity identity)
            || identity.Kind is not (MeshIdentityKind.Service or MeshIdentityKind.MeshGateway or MeshIdentityKind.ClientAgent or MeshIdentityKind.ServerAgent))
        {
            throw Refuse(CertificateSigningError.UnsupportedIdentity, $"'{id}' is not a service, mesh gateway or agent SPIFFE ID; the CA signs only those.");
        }

        if (identity.TrustDomain != TrustDomain)
        {
            throw Refuse(CertificateSigningError.WrongTrustDomain, $"'{id}' belongs to trust domain '{identity.TrustDomain}', not '{TrustDomain}'.");
        }

        if (!string.Equals(identity.Datacenter, Datacenter, StringComparison.Ordinal) && !_options.AdditionalDatacenters.Contains(identity.Datacenter!))
        {
            throw Refuse(CertificateSigningError.WrongDatacenter, $"'{id}' names datacenter '{identity.Datacenter}'; this CA signs for '{Datacenter}'.");
        }
    }

    private static CertificateSigningException Refuse(CertificateSigningError error, string message) => new(error, message);

    private static DateTimeOffset Truncate(DateTimeOffset time) =>
        new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private sealed class State(MeshCaRoot active, MeshCaRoot[] roots)
    {
        private readonly byte[][] _chain = BuildChain(active);
        private readonly byte[][] _chainWithoutCross = active.IntermediateDer is null ? [] : [active.IntermediateDer];

        public MeshCaRoot Active { get; } = active;

        public MeshCaRoot[] Roots { get; } = roots;

        // The chain sent after a leaf, leaf-side first: the intermediate, then the new root as cross-signed by the old one, which
        // lets peers that trust only the old root build a path. An expired cross-signature is no longer sent.
        public byte[][] LeafChain(DateTimeOffset now) =>
            Active.CrossSignedDer is not null && now < Active.CrossSignedNotAfter ? _chain : _chainWithoutCross;

        private static byte[][] BuildChain(MeshCaRoot root)
        {
            var chain = new List<byte[]>(2);
            if (root.IntermediateDer is not null)
            {
                chain.Add(root.IntermediateDer);
            }

            if (root.CrossSignedDer is not null)
            {
                chain.Add(root.CrossSignedDer);
            }

            return [.. chain];
        }
    }
}
