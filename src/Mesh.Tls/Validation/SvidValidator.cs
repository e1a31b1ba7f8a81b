using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mesh.Configuration;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Configuration;
using Mesh.Tls.Diagnostics;
using Mesh.Tls.X509;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Tls.Validation;

/// <summary>
/// Validates peers' X.509-SVIDs by every rule of the SPIFFE standards against the bundle of the leaf's own trust domain, then
/// authorizes the identity. Successful validations are cached per certificate and bundle version.
/// </summary>
/// <remarks>
/// The checks run in go-spiffe's order (the ID, the bundle of its trust domain, the leaf's CA flags, then the path) with the rest
/// of X509-SVID's rules between them, so each failure names the first rule broken. Path validation uses
/// <see cref="X509ChainPolicy"/> with only the trust domain's roots as anchors, peer-sent certificates as intermediates only, no
/// revocation (leaves live hours) and no downloads.
/// </remarks>
public sealed class SvidValidator
{
    private readonly ITrustBundleSource _bundles;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ValidationCache _cache;
    private long _pathValidations;

    /// <summary>Creates a validator reading roots from a bundle source.</summary>
    public SvidValidator(ITrustBundleSource bundles, TimeProvider? timeProvider = null, SvidValidatorOptions? options = null, ILogger<SvidValidator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(bundles);
        _bundles = bundles;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger<SvidValidator>.Instance;
        options?.ThrowIfInvalid(SvidValidatorOptionsValidator.Instance);
        _cache = new ValidationCache((options ?? new SvidValidatorOptions()).CacheCapacity);
    }

    /// <summary>The bundle source the validator reads.</summary>
    public ITrustBundleSource Bundles => _bundles;

    internal TimeProvider TimeProvider => _time;

    /// <summary>Where validations are counted: the host's meter when built under dependency injection.</summary>
    internal TlsMetrics Metrics { get; init; } = TlsMetrics.Shared;

    internal ValidationCache Cache => _cache;

    /// <summary>How many certification paths were judged (cache misses that reached the path check), for tests.</summary>
    internal long PathValidations => Interlocked.Read(ref _pathValidations);

    /// <summary>Validates a leaf with the intermediates the peer sent, then authorizes its ID.</summary>
    /// <param name="leaf">The peer's leaf certificate.</param>
    /// <param name="intermediates">Certificates the peer sent after its leaf; used only as intermediates, never as anchors.</param>
    /// <param name="authorizer">Which IDs are accepted; <see cref="PeerAuthorizer.AnyValid"/> when null.</param>
    public SvidValidationResult Validate(X509Certificate2? leaf, IReadOnlyList<X509Certificate2>? intermediates = null, PeerAuthorizer? authorizer = null)
    {
        if (leaf is null)
        {
            return Fail(SvidValidationStatus.NoCertificate, default, "The peer sent no certificate.");
        }

        return ValidateLeaf(leaf, intermediates, _bundles.Current, _time.GetUtcNow(), authorizer);
    }

    /// <summary>
    /// Validates a leaf the TLS stack received, with the chain it built using <see cref="CreatePlatformPolicy"/>. A cached leaf is
    /// authorized at once; otherwise the path is built here with the roots of the leaf's own trust domain, the certificates the
    /// peer sent (which the platform put in the policy's extra store) serving as intermediates only.
    /// </summary>
    internal SvidValidationResult ValidateBuiltChain(X509Certificate2 leaf, X509Chain builtChain, TrustBundle bundle, DateTimeOffset now, PeerAuthorizer? authorizer) =>
        // The platform's chain has no anchor, so it proves nothing: only the certificates the peer sent are taken from it.
        ValidateLeaf(leaf, builtChain.ChainPolicy.ExtraStore, bundle, now, authorizer);

    // A leaf known for this bundle version is authorized at once; any other is checked by the SVID rules, then its path is built.
    private SvidValidationResult ValidateLeaf(X509Certificate2 leaf, IEnumerable<X509Certificate2>? sent, TrustBundle bundle, DateTimeOffset now, PeerAuthorizer? authorizer)
    {
        ValidationCache.Key key = ValidationCache.CreateKey(leaf.RawDataMemory.Span, bundle.Version);
        if (_cache.TryGet(key, now, out SpiffeId cachedId))
        {
            return Authorize(cachedId, authorizer, fromCache: true);
        }

        SvidValidationResult result = CheckLeaf(leaf, bundle, now, out IReadOnlyList<X509Certificate2> roots);
        if (result.Status != SvidValidationStatus.Valid)
        {
            return Report(result);
        }

        return BuildPath(leaf, sent, result.PeerId, roots, key, now, authorizer);
    }

    /// <summary>
    /// The chain policy handed to <see cref="System.Net.Security.SslStream"/>: custom root trust with no anchor at all, no
    /// downloads, no revocation.
    /// </summary>
    /// <remarks>
    /// SslStream builds the peer's chain with this policy before it calls the validation callback, on every handshake, and nothing
    /// turns that build off. With the bundle's roots as anchors it would verify the leaf's signature again for a certificate the
    /// validator's cache already knows (an ECDSA verification, as costly as the handshake's own); with no anchor the platform
    /// stops at the leaf, and the path is checked by the validator, once per certificate and bundle version. Nothing is trusted
    /// on the platform's word: neither the system store (custom root trust) nor the chain's status, which the callback ignores.
    /// A new policy each handshake: SslStream adds the certificates the peer sent to its extra store.
    /// </remarks>
    internal static X509ChainPolicy CreatePlatformPolicy(DateTimeOffset now) => CreatePolicy([], now);

    private static X509ChainPolicy CreatePolicy(IReadOnlyList<X509Certificate2> roots, DateTimeOffset now)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
            VerificationTime = now.UtcDateTime,
            VerificationTimeIgnored = false,
        };
        foreach (X509Certificate2 root in roots)
        {
            policy.CustomTrustStore.Add(root);
        }

        return policy;
    }

    private static SvidValidationResult CheckLeaf(X509Certificate2 leaf, TrustBundle bundle, DateTimeOffset now, out IReadOnlyList<X509Certificate2> roots)
    {
        roots = [];
        if (!CertificateFacts.TryRead(leaf.RawDataMemory.Span, out CertificateFacts facts))
        {
            return new(SvidValidationStatus.MalformedCertificate, default, detail: "The leaf's DER could not be read or repeats an extension.");
        }

        // X509-SVID §2: exactly one URI SAN, a SPIFFE ID with a path.
        if (!facts.HasSubjectAltName || facts.AltNames.UriCount == 0)
        {
            return new(SvidValidationStatus.NoUriSan, default, detail: "The leaf has no URI SAN.");
        }

        if (facts.AltNames.UriCount > 1)
        {
            return new(SvidValidationStatus.MultipleUriSans, default, detail: $"The leaf has {facts.AltNames.UriCount} URI SANs; an X.509-SVID has exactly one.");
        }

        ReadOnlySpan<byte> uri = facts.AltNames.FirstUri;
        if (!SpiffeId.TryParse(uri, out SpiffeId id, out SpiffeIdError idError))
        {
            string shown = Encoding.Latin1.GetString(uri[..Math.Min(uri.Length, 200)]);
            return idError == SpiffeIdError.WrongScheme
                ? new(SvidValidationStatus.NotSpiffe, default, detail: $"The URI SAN '{shown}' is not a spiffe:// URI.")
                : new(SvidValidationStatus.InvalidSpiffeId, default, idError, $"The URI SAN '{shown}' is not a valid SPIFFE ID: {SpiffeId.Describe(idError)}.");
        }

        if (!id.HasPath)
        {
            return new(SvidValidationStatus.RootPath, id, detail: $"'{id}' names a trust domain, not a workload.");
        }

        if (!bundle.TryGetRoots(id.TrustDomain, out roots) || roots.Count == 0)
        {
            return new(SvidValidationStatus.NoBundleForTrustDomain, id, detail: $"The bundle has no roots for trust domain '{id.TrustDomainSpan}'.");
        }

        if (facts.SubjectEmpty && !facts.SubjectAltNameCritical)
        {
            return new(SvidValidationStatus.SanNotCritical, id, detail: "The subject is empty and the SAN extension is not critical.");
        }

        if (facts.IsCa)
        {
            return new(SvidValidationStatus.LeafIsCa, id, detail: "The leaf has BasicConstraints cA=true.");
        }

        if (!facts.HasKeyUsage)
        {
            return new(SvidValidationStatus.MissingKeyUsage, id, detail: "The leaf has no KeyUsage extension.");
        }

        if ((facts.KeyUsageBits & (CertificateFacts.KeyCertSign | CertificateFacts.CrlSign)) != 0)
        {
            return new(SvidValidationStatus.ForbiddenKeyUsage, id, detail: "The leaf's KeyUsage sets keyCertSign or cRLSign.");
        }

        if ((facts.KeyUsageBits & CertificateFacts.DigitalSignature) == 0)
        {
            return new(SvidValidationStatus.MissingDigitalSignature, id, detail: "The leaf's KeyUsage lacks digitalSignature.");
        }

        if (facts.HasExtendedKeyUsage && !(facts.ServerAuth && facts.ClientAuth))
        {
            return new(SvidValidationStatus.MissingExtendedKeyUsage, id, detail: "The leaf's ExtendedKeyUsage lacks serverAuth or clientAuth.");
        }

        DateTimeOffset notBefore = leaf.NotBefore.ToUniversalTime();
        DateTimeOffset notAfter = leaf.NotAfter.ToUniversalTime();
        if (now < notBefore)
        {
            return new(SvidValidationStatus.NotYetValid, id, detail: $"The leaf is valid from {notBefore:O}; it is {now:O}.");
        }

        if (now > notAfter)
        {
            return new(SvidValidationStatus.Expired, id, detail: $"The leaf expired at {notAfter:O}; it is {now:O}.");
        }

        if (IsWeakSignature(facts.SignatureAlgorithm))
        {
            return new(SvidValidationStatus.WeakSignatureAlgorithm, id, detail: $"The leaf is signed with {facts.SignatureAlgorithm}.");
        }

        if (!IsStrongKey(facts.SubjectPublicKeyInfo))
        {
            return new(SvidValidationStatus.WeakKey, id, detail: "The leaf's key is not RSA ≥ 2048 bits or EC P-256, P-384 or P-521.");
        }

        return new(SvidValidationStatus.Valid, id);
    }

    // Builds the path from the leaf to one of the trust domain's roots, with what the peer sent as intermediates only. Copies of
    // the roots are left out (OpenSSL's s_client, for one, sends the root it chained to): a peer-sent copy is an untrusted
    // self-signed certificate the path could end at, and the anchor comes from the bundle anyway.
    private SvidValidationResult BuildPath(
        X509Certificate2 leaf, IEnumerable<X509Certificate2>? sent, SpiffeId id, IReadOnlyList<X509Certificate2> roots, in ValidationCache.Key key, DateTimeOffset now, PeerAuthorizer? authorizer)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy = CreatePolicy(roots, now);
        if (sent is not null)
        {
            foreach (X509Certificate2 certificate in sent)
            {
                if (!IsAnchor(certificate, roots))
                {
                    chain.ChainPolicy.ExtraStore.Add(certificate);
                }
            }
        }

        chain.Build(leaf);
        try
        {
            return Finish(leaf, chain, id, roots, key, now, authorizer);
        }
        finally
        {
            DisposeElements(chain);
        }
    }

    private SvidValidationResult Finish(X509Certificate2 leaf, X509Chain chain, SpiffeId id, IReadOnlyList<X509Certificate2> roots, in ValidationCache.Key key, DateTimeOffset now, PeerAuthorizer? authorizer)
    {
        Interlocked.Increment(ref _pathValidations);
        X509ChainStatusFlags flags = X509ChainStatusFlags.NoError;
        foreach (X509ChainStatus status in chain.ChainStatus)
        {
            flags |= status.Status;
        }

        X509ChainElementCollection elements = chain.ChainElements;
        if (flags != X509ChainStatusFlags.NoError || elements.Count < 2 || !IsAnchor(elements[^1].Certificate, roots))
        {
            return Report(new(SvidValidationStatus.Untrusted, id, detail: $"No path to a root of trust domain '{id.TrustDomainSpan}' ({flags})."));
        }

        DateTimeOffset expires = leaf.NotAfter.ToUniversalTime();
        for (int i = 1; i < elements.Count; i++)
        {
            X509Certificate2 signer = elements[i].Certificate;
            if (!CertificateFacts.TryRead(signer.RawDataMemory.Span, out CertificateFacts facts))
            {
                return Report(new(SvidValidationStatus.MalformedCertificate, id, detail: $"Signing certificate '{signer.Subject}' could not be read."));
            }

            // X509-SVID §4.1, §4.3: signing certificates are CAs with keyCertSign; a SPIFFE ID on one names a trust domain only.
            bool spiffeIdWithPath = facts.AltNames.UriCount > 0
                && SpiffeId.TryParse(facts.AltNames.FirstUri, out SpiffeId signerId, out _) && signerId.HasPath;
            if (!facts.IsCa || !facts.HasKeyUsage || (facts.KeyUsageBits & CertificateFacts.KeyCertSign) == 0 || spiffeIdWithPath)
            {
                return Report(new(SvidValidationStatus.InvalidSigningCertificate, id, detail: $"Signing certificate '{signer.Subject}' is not a CA with keyCertSign and a path-less SPIFFE ID."));
            }

            if (!IsStrongKey(facts.SubjectPublicKeyInfo))
            {
                return Report(new(SvidValidationStatus.WeakKey, id, detail: $"Signing certificate '{signer.Subject}' holds a weak key."));
            }

            // A root's self-signature is not relied on (it is trusted as an anchor); every other signature is.
            if (i < elements.Count - 1 && IsWeakSignature(facts.SignatureAlgorithm))
            {
                return Report(new(SvidValidationStatus.WeakSignatureAlgorithm, id, detail: $"Signing certificate '{signer.Subject}' is signed with {facts.SignatureAlgorithm}."));
            }

            DateTimeOffset signerNotAfter = signer.NotAfter.ToUniversalTime();
            if (signerNotAfter < expires)
            {
                expires = signerNotAfter;
            }
        }

        _cache.Add(key, id, leaf.NotBefore.ToUniversalTime(), expires, now);
        return Authorize(id, authorizer, fromCache: false);
    }

    private SvidValidationResult Authorize(SpiffeId id, PeerAuthorizer? authorizer, bool fromCache)
    {
        if (authorizer is null || authorizer.IsAuthorized(id))
        {
            Metrics.PeerValidated(SvidValidationStatus.Valid);
            return new(SvidValidationStatus.Valid, id, fromCache: fromCache);
        }

        return Report(new(SvidValidationStatus.IdentityMismatch, id, detail: $"'{id}' is not {authorizer}.", fromCache: fromCache));
    }

    private SvidValidationResult Fail(SvidValidationStatus status, SpiffeId id, string detail) => Report(new(status, id, detail: detail));

    private SvidValidationResult Report(SvidValidationResult result)
    {
        Metrics.PeerValidated(result.Status);
        ValidationLog.Rejected(_logger, result.Status, result.Detail);
        return result;
    }

    private static void DisposeElements(X509Chain chain)
    {
        foreach (X509ChainElement element in chain.ChainElements)
        {
            element.Certificate.Dispose();
        }
    }

    private static bool IsAnchor(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> roots)
    {
        ReadOnlySpan<byte> raw = certificate.RawDataMemory.Span;
        foreach (X509Certificate2 root in roots)
        {
            if (raw.SequenceEqual(root.RawDataMemory.Span))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsWeakSignature(string algorithm) => algorithm is not (Oids.EcdsaWithSha256 or Oids.EcdsaWithSha384 or Oids.EcdsaWithSha512
        or Oids.Sha256WithRsa or Oids.Sha384WithRsa or Oids.Sha512WithRsa);

    private static bool IsStrongKey(ReadOnlySpan<byte> spki)
    {
        string? type = PublicKeyInfo.Classify(spki);
        if (type is null)
        {
            return false;
        }

        if (type != "RSA")
        {
            return true;
        }

        using var rsa = System.Security.Cryptography.RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(spki, out _);
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return false;
        }

        return rsa.KeySize >= 2048;
    }
}
