using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.Configuration;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Configuration;
using Mesh.Tls.Diagnostics;
using Mesh.Tls.X509;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Authority;

/// <summary>
/// The mesh's certificate authority, issuing certificates as Consul's built-in CA does (consul-semantics §4): roots and an
/// optional intermediate, leaves signed from PKCS #10 requests, root rotation by cross-signing, a signing rate limit.
/// </summary>
/// <remarks>
/// Keys stay in memory, and in <see cref="MeshCaOptions.KeyDirectory"/> when one is set (owner-only PEM files, so the root
/// survives a restart); nothing is written to a certificate store. Services obtain leaves by sending a CSR, so a CA key
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
    private readonly ChangeNotifier _signingKeyChanged = new();
    private State _state;
    private long _bundleVersion;
    private int _generation;

    /// <summary>
    /// Creates a CA: with the operator's root when <see cref="MeshCaOptions.RootCertificatePem"/> is set, else with the root kept in
    /// <see cref="MeshCaOptions.KeyDirectory"/>, else (and on the first start with that directory, which then keeps it) a new one;
    /// the intermediate, when configured, likewise.
    /// </summary>
    /// <exception cref="OptionsValidationException">The options break one of Consul's constraints; each message names the option.</exception>
    /// <exception cref="ArgumentException">The operator's root is unusable; the message says why.</exception>
    /// <exception cref="InvalidOperationException">A file in the key directory cannot be read as the CA's key material; the message names it.</exception>
    public MeshCertificateAuthority(MeshCaOptions options, TimeProvider? timeProvider = null, ILogger<MeshCertificateAuthority>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid(MeshCaOptionsValidator.Instance);
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<MeshCertificateAuthority>.Instance;
        _limiter = new SigningRateLimiter(options.SigningRateLimit, _time);
        MeshCaRoot root = LoadOrCreateRoot(_time.GetUtcNow());
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
    public IChangeToken GetSigningKeyChangeToken() => _signingKeyChanged.GetChangeToken();

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
            Persist(fresh, includeRoot: true);

            Volatile.Write(ref _state, new State(fresh, [.. state.Roots, fresh]));
            PublishBundle();
            _signingKeyChanged.NotifyChanged();
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
    }

    private MeshCaRoot CreateRoot(CaKeyType keyType, DateTimeOffset now)
    {
        int generation = Interlocked.Increment(ref _generation);
        CaSigningKey rootKey = CaSigningKey.Generate(keyType);
        byte[] rootName = CertificateEncoder.EncodeCommonName($"Mesh CA Root {generation} {TrustDomain.Name}");
        now = Truncate(now);
        byte[] rootDer = IssueCaCertificate(rootKey, rootName, rootKey, rootName, now, _options.RootTtl);
        return _options.UseIntermediate
            ? WithNewIntermediate(rootKey, rootDer, rootName, generation, now)
            : new MeshCaRoot(rootKey, rootDer, null, null) { LeafSignerName = rootName };
    }

    private MeshCaRoot WithNewIntermediate(CaSigningKey rootKey, byte[] rootDer, byte[] rootName, int generation, DateTimeOffset now)
    {
        now = Truncate(now);
        CaSigningKey intermediateKey = CaSigningKey.Generate(rootKey.KeyType);
        byte[] signerName = CertificateEncoder.EncodeCommonName($"Mesh CA Intermediate {generation} {TrustDomain.Name}");
        byte[] intermediateDer = IssueCaCertificate(rootKey, rootName, intermediateKey, signerName, now, _options.IntermediateTtl);
        return new MeshCaRoot(rootKey, rootDer, intermediateKey, intermediateDer) { LeafSignerName = signerName };
    }

    // A CA certificate of the trust domain (its URI SAN is the trust domain's SPIFFE ID, as Consul's roots carry), signed by the
    // issuer: the root signs itself, and the intermediate under it.
    private byte[] IssueCaCertificate(CaSigningKey issuerKey, byte[] issuerName, CaSigningKey subjectKey, byte[] subjectName, DateTimeOffset notBefore, TimeSpan lifetime)
    {
        var profile = new CertificateProfile
        {
            IsCa = true,
            Subject = subjectName,
            SubjectPublicKeyInfo = subjectKey.SubjectPublicKeyInfo,
            Uri = TrustDomain.Id.Value,
            NotBefore = notBefore,
            NotAfter = notBefore + lifetime,
        };
        return CertificateEncoder.Issue(issuerKey, issuerName, ref profile);
    }

    // The root survives restarts: a new root at every start would split the mesh (peers keep trusting the old one) and make every
    // workload renew at once. Order: the operator's root, the key directory's, a new one (written to the directory when there is one).
    private MeshCaRoot LoadOrCreateRoot(DateTimeOffset now)
    {
        string? directory = _options.KeyDirectory;
        (CaSigningKey Key, byte[] Der)? stored = null;
        if (_options.RootCertificatePem is not null)
        {
            stored = ReadKeyMaterial(_options.RootCertificatePem, _options.RootPrivateKeyPem!, now, "the operator's root (MeshCaOptions.RootCertificatePem/RootPrivateKeyPem)",
                static message => new ArgumentException(message));
        }
        else if (directory is not null && CaKeyFiles.TryRead(directory, CaKeyFiles.RootFile) is { } pem)
        {
            string path = Path.Combine(directory, CaKeyFiles.RootFile);
            stored = ReadKeyMaterial(pem, pem, now, $"the CA root file '{path}'", static message => new InvalidOperationException(message));
        }

        if (stored is not { } root)
        {
            MeshCaRoot created = CreateRoot(_options.KeyType, now);
            Persist(created, includeRoot: _options.RootCertificatePem is null);
            CaKeyLog.RootCreated(_logger, TrustDomain.Name, directory ?? "memory only");
            return created;
        }

        using X509Certificate2 rootCertificate = X509CertificateLoader.LoadCertificate(root.Der);
        byte[] rootName = rootCertificate.SubjectName.RawData;
        _generation = Math.Max(_generation, ReadGeneration(rootCertificate));
        MeshCaRoot loaded;
        if (!_options.UseIntermediate)
        {
            loaded = new MeshCaRoot(root.Key, root.Der, null, null) { LeafSignerName = rootName };
        }
        else if (directory is not null && CaKeyFiles.TryRead(directory, CaKeyFiles.IntermediateFile) is { } intermediatePem
            && ReadKeyMaterial(intermediatePem, intermediatePem, now, $"the CA intermediate file '{Path.Combine(directory, CaKeyFiles.IntermediateFile)}'",
                static message => new InvalidOperationException(message)) is var (intermediateKey, intermediateDer)
            && IssuedBy(intermediateDer, root.Key))
        {
            using X509Certificate2 intermediateCertificate = X509CertificateLoader.LoadCertificate(intermediateDer);
            loaded = new MeshCaRoot(root.Key, root.Der, intermediateKey, intermediateDer) { LeafSignerName = intermediateCertificate.SubjectName.RawData };
        }
        else
        {
            // No intermediate yet, or one under another root (the root was replaced): a new one under this root.
            loaded = WithNewIntermediate(root.Key, root.Der, rootName, Math.Max(1, _generation), now);
            Persist(loaded, includeRoot: false);
        }

        CaKeyLog.RootLoaded(_logger, TrustDomain.Name, directory ?? "the operator's PEM");
        return loaded;
    }

    private void Persist(MeshCaRoot root, bool includeRoot)
    {
        if (_options.KeyDirectory is not { } directory)
        {
            return;
        }

        if (includeRoot)
        {
            CaKeyFiles.Write(directory, CaKeyFiles.RootFile, MeshPem.EncodeCertificates([root.RootDer]), root.RootKey.Key.ExportPkcs8PrivateKeyPem());
        }

        if (root.IntermediateKey is not null && root.IntermediateDer is not null)
        {
            CaKeyFiles.Write(directory, CaKeyFiles.IntermediateFile, MeshPem.EncodeCertificates([root.IntermediateDer]), root.IntermediateKey.Key.ExportPkcs8PrivateKeyPem());
        }
    }

    // A CA certificate with its key: the first CERTIFICATE block of certificatePem and the key of keyPem, checked to belong together,
    // to be a CA, and to be valid now.
    private static (CaSigningKey Key, byte[] Der) ReadKeyMaterial(string certificatePem, string keyPem, DateTimeOffset now, string source, Func<string, Exception> error)
    {
        byte[] der;
        AsymmetricAlgorithm key;
        try
        {
            der = MeshPem.DecodeSingle(certificatePem, "CERTIFICATE", "X509 CERTIFICATE")
                ?? throw error($"{source} holds no CERTIFICATE block.");
            key = CaSigningKey.ReadPrivateKey(keyPem);
        }
        catch (Exception ex) when (ex is FormatException or CryptographicException)
        {
            throw error($"{source} cannot be read: {ex.Message} Restore it from a backup, or move it away to start with a new root (see docs/ca-keys.md).");
        }

        try
        {
            using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(der);
            if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
            {
                throw error($"The private key of {source} does not match its certificate.");
            }

            if (certificate.Extensions[Oids.BasicConstraints] is not X509BasicConstraintsExtension { CertificateAuthority: true })
            {
                throw error($"The certificate of {source} is not a CA certificate (basic constraints CA:TRUE).");
            }

            if (now < certificate.NotBefore.ToUniversalTime() || now >= certificate.NotAfter.ToUniversalTime())
            {
                throw error($"The certificate of {source} is valid {certificate.NotBefore.ToUniversalTime():O} to {certificate.NotAfter.ToUniversalTime():O}, not now.");
            }

            byte[]? subjectKeyId = certificate.Extensions[Oids.SubjectKeyIdentifier] is X509SubjectKeyIdentifierExtension ski
                ? ski.SubjectKeyIdentifierBytes.ToArray()
                : null;
            return (CaSigningKey.FromKey(key, subjectKeyId), der);
        }
        catch (Exception ex) when (ex is CryptographicException)
        {
            key.Dispose();
            throw error($"{source} cannot be used: {ex.Message}");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static bool IssuedBy(byte[] der, CaSigningKey issuer)
    {
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(der);
        return certificate.Extensions[Oids.AuthorityKeyIdentifier] is X509AuthorityKeyIdentifierExtension { KeyIdentifier: { } aki }
            && aki.Span.SequenceEqual(issuer.SubjectKeyId);
    }

    // Root names carry a generation ("Mesh CA Root 3 <trust domain>"); a loaded root's keeps the next rotation's name distinct.
    private static int ReadGeneration(X509Certificate2 certificate)
    {
        string[] words = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false).Split(' ');
        return words.Length >= 4 && words[0] == "Mesh" && words[2] == "Root"
            && int.TryParse(words[3], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int generation)
            ? generation
            : 0;
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
