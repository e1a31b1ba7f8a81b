using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.Tests.Support;
using Mesh.Tls.Validation;

namespace Mesh.Tls.Tests.Validation;

public sealed class SvidValidatorTests
{
    private const string Td = "example.consul";
    private const string WebId = "spiffe://example.consul/ns/default/dc/dc1/svc/web";

    private static MeshCertificateAuthority NewCa(string td = Td, bool intermediate = false, TimeProvider? time = null) =>
        new(new MeshCaOptions { TrustDomain = TrustDomain.Parse(td), UseIntermediate = intermediate, SigningRateLimit = 0 }, time);

    [Test]
    public void Crafted_bad_peer_chains_are_each_refused_for_their_own_reason()
    {
        using MeshCertificateAuthority ca = NewCa();
        using MeshCertificateAuthority otherCa = NewCa();
        using MeshCertificateAuthority otherTd = NewCa("other.consul");
        using RSA weakRsa = RSA.Create(1024);
        var bundle = new InMemoryTrustBundleSource(new TrustBundle(1, new Dictionary<TrustDomain, IReadOnlyList<X509Certificate2>>
        {
            [TrustDomain.Parse(Td)] = [ca.ActiveRoot.Certificate],
            [TrustDomain.Parse("other.consul")] = [otherTd.ActiveRoot.Certificate],
        }));
        var validator = new SvidValidator(bundle);
        MeshCaRoot root = ca.ActiveRoot;
        DateTimeOffset now = DateTimeOffset.UtcNow;

        var cases = new (string Name, X509Certificate2 Leaf, SvidValidationStatus Expected, SpiffeIdError IdError)[]
        {
            ("DNS SAN only", Craft(root, new LeafSpec { Dns = ["web.local"] }), SvidValidationStatus.NoUriSan, default),
            ("no SAN extension", Craft(root, new LeafSpec { IncludeSan = false, Subject = "CN=web" }), SvidValidationStatus.NoUriSan, default),
            ("two URI SANs", Craft(root, new LeafSpec { Uris = [WebId, WebId + "2"] }), SvidValidationStatus.MultipleUriSans, default),
            ("https URI", Craft(root, new LeafSpec { Uris = ["https://example.consul/web"] }), SvidValidationStatus.NotSpiffe, default),
            ("upper-case scheme", Craft(root, new LeafSpec { Uris = ["SPIFFE://example.consul/web"] }), SvidValidationStatus.NotSpiffe, default),
            ("percent-encoding", Craft(root, new LeafSpec { Uris = [WebId + "%2Fadmin"] }), SvidValidationStatus.InvalidSpiffeId, SpiffeIdError.PercentEncoding),
            ("upper-case trust domain", Craft(root, new LeafSpec { Uris = ["spiffe://EXAMPLE.consul/ns/default/dc/dc1/svc/web"] }), SvidValidationStatus.InvalidSpiffeId, SpiffeIdError.TrustDomainUpperCase),
            ("dot segment", Craft(root, new LeafSpec { Uris = ["spiffe://example.consul/ns/default/../svc/web"] }), SvidValidationStatus.InvalidSpiffeId, SpiffeIdError.DotSegment),
            ("trailing slash", Craft(root, new LeafSpec { Uris = [WebId + "/"] }), SvidValidationStatus.InvalidSpiffeId, SpiffeIdError.TrailingSlash),
            ("port", Craft(root, new LeafSpec { Uris = ["spiffe://example.consul:443/web"] }), SvidValidationStatus.InvalidSpiffeId, SpiffeIdError.Port),
            ("non-ASCII byte", Craft(root, new LeafSpec { Uris = ["spiffe://example.consul/caf\u00e9"] }), SvidValidationStatus.InvalidSpiffeId, SpiffeIdError.PathInvalidCharacter),
            ("trust domain ID on a leaf", Craft(root, new LeafSpec { Uris = ["spiffe://example.consul"] }), SvidValidationStatus.RootPath, default),
            ("trust domain without a bundle", Craft(root, new LeafSpec { Uris = ["spiffe://unknown.consul/ns/default/dc/dc1/svc/web"] }), SvidValidationStatus.NoBundleForTrustDomain, default),
            ("empty subject, SAN not critical", Craft(root, new LeafSpec { Uris = [WebId], SanCritical = false }), SvidValidationStatus.SanNotCritical, default),
            ("leaf is a CA", Craft(root, new LeafSpec { Uris = [WebId], IsCa = true }), SvidValidationStatus.LeafIsCa, default),
            ("no KeyUsage", Craft(root, new LeafSpec { Uris = [WebId], KeyUsage = null }), SvidValidationStatus.MissingKeyUsage, default),
            ("keyCertSign", Craft(root, new LeafSpec { Uris = [WebId], KeyUsage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign }), SvidValidationStatus.ForbiddenKeyUsage, default),
            ("cRLSign", Craft(root, new LeafSpec { Uris = [WebId], KeyUsage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.CrlSign }), SvidValidationStatus.ForbiddenKeyUsage, default),
            ("no digitalSignature", Craft(root, new LeafSpec { Uris = [WebId], KeyUsage = X509KeyUsageFlags.KeyEncipherment }), SvidValidationStatus.MissingDigitalSignature, default),
            ("serverAuth only", Craft(root, new LeafSpec { Uris = [WebId], Eku = ["1.3.6.1.5.5.7.3.1"] }), SvidValidationStatus.MissingExtendedKeyUsage, default),
            ("expired", Craft(root, new LeafSpec { Uris = [WebId], NotBefore = now.AddHours(-3), NotAfter = now.AddHours(-1) }), SvidValidationStatus.Expired, default),
            ("not yet valid", Craft(root, new LeafSpec { Uris = [WebId], NotBefore = now.AddHours(1), NotAfter = now.AddHours(3) }), SvidValidationStatus.NotYetValid, default),
            ("SHA-1 signature", Craft(root, new LeafSpec { Uris = [WebId], Sha1 = true }), SvidValidationStatus.WeakSignatureAlgorithm, default),
            ("RSA 1024 key", Craft(root, new LeafSpec { Uris = [WebId], Key = weakRsa }), SvidValidationStatus.WeakKey, default),
            ("another CA of the same trust domain", Craft(otherCa.ActiveRoot, new LeafSpec { Uris = [WebId] }), SvidValidationStatus.Untrusted, default),
            ("signed by another trust domain's root", Craft(otherTd.ActiveRoot, new LeafSpec { Uris = [WebId] }), SvidValidationStatus.Untrusted, default),
        };

        Assert.That(cases, Has.Length.GreaterThanOrEqualTo(15));
        Assert.Multiple(() =>
        {
            foreach ((string name, X509Certificate2 leaf, SvidValidationStatus expected, SpiffeIdError idError) in cases)
            {
                SvidValidationResult result = validator.Validate(leaf);
                Assert.That(result.Status, Is.EqualTo(expected), $"{name}: {result}");
                Assert.That(result.SpiffeIdError, Is.EqualTo(idError), name);
                Assert.That(result.IsValid, Is.False, name);
            }
        });
    }

    [Test]
    public void A_signing_certificate_with_a_workload_id_is_refused()
    {
        using MeshCertificateAuthority ca = NewCa();
        MeshCaRoot root = ca.ActiveRoot;
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        X509Certificate2 intermediate = CraftedCertificates.Sign(root.RootKey.Key, root.RootKey.SubjectKeyId, root.Certificate.SubjectName, new LeafSpec
        {
            Subject = "CN=Bad intermediate",
            Uris = [WebId],
            IsCa = true,
            KeyUsage = X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature,
            Eku = null,
            Key = intermediateKey,
            NotAfter = DateTimeOffset.UtcNow.AddDays(1),
        });
        byte[] intermediateSki = SHA256.HashData(intermediateKey.ExportSubjectPublicKeyInfo());
        X509Certificate2 leaf = CraftedCertificates.Sign(intermediateKey, intermediateSki, intermediate.SubjectName, new LeafSpec { Uris = [WebId] });
        var validator = new SvidValidator(ca.TrustBundleSource);
        SvidValidationResult result = validator.Validate(leaf, [intermediate]);
        Assert.That(result.Status, Is.EqualTo(SvidValidationStatus.InvalidSigningCertificate), result.ToString());
    }

    [Test]
    public void Valid_chains_are_accepted_with_their_identity()
    {
        using MeshCertificateAuthority direct = NewCa();
        using MeshCertificateAuthority withIntermediate = NewCa(intermediate: true);
        using MeshCertificateAuthority other = NewCa("other.consul");
        var bundle = new InMemoryTrustBundleSource(new TrustBundle(1, new Dictionary<TrustDomain, IReadOnlyList<X509Certificate2>>
        {
            // Several roots for one trust domain, as during a rotation, and a second trust domain.
            [TrustDomain.Parse(Td)] = [direct.ActiveRoot.Certificate, withIntermediate.ActiveRoot.Certificate],
            [TrustDomain.Parse("other.consul")] = [other.ActiveRoot.Certificate],
        }));
        var validator = new SvidValidator(bundle, options: new SvidValidatorOptions { CacheCapacity = 0 });
        SpiffeId web = SpiffeId.Parse(WebId);

        LeafCertificate a = direct.IssueLeaf(web, ["web.local", "web.example"]);
        LeafCertificate b = withIntermediate.IssueLeaf(web);
        LeafCertificate c = other.IssueLeaf(SpiffeId.Parse("spiffe://other.consul/ns/default/dc/dc1/svc/api"));
        Assert.Multiple(() =>
        {
            Assert.That(validator.Validate(a.Certificate, a.Intermediates).Status, Is.EqualTo(SvidValidationStatus.Valid), "extra DNS SANs");
            Assert.That(validator.Validate(b.Certificate, b.Intermediates).PeerId, Is.EqualTo(web), "through an intermediate, second root");
            Assert.That(validator.Validate(c.Certificate, c.Intermediates).IsValid, Is.True, "another trust domain with its own bundle");
            Assert.That(validator.Validate(b.Certificate).Status, Is.EqualTo(SvidValidationStatus.Untrusted), "the intermediate is needed");
            Assert.That(validator.Validate(b.Intermediates[0]).Status, Is.EqualTo(SvidValidationStatus.RootPath), "a CA certificate is no SVID");
            Assert.That(validator.Validate(null).Status, Is.EqualTo(SvidValidationStatus.NoCertificate));
        });
    }

    [Test]
    public void Cross_signed_rotation_keeps_old_root_peers_verifying_and_removal_stops_trust()
    {
        using MeshCertificateAuthority ca = NewCa(intermediate: true);
        var oldOnly = new InMemoryTrustBundleSource(ca.TrustBundleSource.Current);
        MeshCaRoot old = ca.ActiveRoot;
        LeafCertificate before = ca.IssueLeaf(SpiffeId.Parse(WebId));
        ca.RotateRoot();
        LeafCertificate after = ca.IssueLeaf(SpiffeId.Parse(WebId));
        var oldPeer = new SvidValidator(oldOnly);
        var current = new SvidValidator(ca.TrustBundleSource);
        Assert.Multiple(() =>
        {
            Assert.That(after.Intermediates, Has.Count.EqualTo(2));
            Assert.That(oldPeer.Validate(after.Certificate, after.Intermediates).Status, Is.EqualTo(SvidValidationStatus.Valid), "old root, cross-signed path");
            Assert.That(current.Validate(after.Certificate, after.Intermediates).Status, Is.EqualTo(SvidValidationStatus.Valid), "new root");
            Assert.That(current.Validate(before.Certificate, before.Intermediates).Status, Is.EqualTo(SvidValidationStatus.Valid), "old leaves, both roots in the bundle");
        });

        Assert.That(current.Validate(before.Certificate, before.Intermediates).FromCache, Is.True);
        ca.RemoveRoot(old);
        SvidValidationResult removed = current.Validate(before.Certificate, before.Intermediates);
        Assert.Multiple(() =>
        {
            Assert.That(removed.Status, Is.EqualTo(SvidValidationStatus.Untrusted), "a removed root is no longer trusted, even for a cached leaf");
            Assert.That(removed.FromCache, Is.False);
        });
    }

    [Test]
    public void Cache_is_keyed_on_the_certificate_and_expires_with_it()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using MeshCertificateAuthority ca = new(new MeshCaOptions
        {
            TrustDomain = TrustDomain.Parse(Td),
            SigningRateLimit = 0,
            MinimumLeafTtl = TimeSpan.FromMinutes(1),
            LeafTtl = TimeSpan.FromHours(1),
        }, time);
        var validator = new SvidValidator(ca.TrustBundleSource, time, new SvidValidatorOptions { CacheCapacity = 2 });
        LeafCertificate leaf = ca.IssueLeaf(SpiffeId.Parse(WebId));
        SpiffeId api = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/api");
        Assert.Multiple(() =>
        {
            Assert.That(validator.Validate(leaf.Certificate).FromCache, Is.False);
            Assert.That(validator.Validate(leaf.Certificate).FromCache, Is.True);
            Assert.That(validator.Validate(leaf.Certificate, authorizer: PeerAuthorizer.Exact(api)).Status, Is.EqualTo(SvidValidationStatus.IdentityMismatch), "authorization still runs on a hit");
        });

        for (int i = 0; i < 5; i++)
        {
            validator.Validate(ca.IssueLeaf(SpiffeId.Parse(WebId)).Certificate);
        }

        Assert.That(validator.Cache.Count, Is.LessThanOrEqualTo(2), "bounded");
        time.Advance(TimeSpan.FromHours(2));
        SvidValidationResult expired = validator.Validate(leaf.Certificate);
        Assert.That(expired.Status, Is.EqualTo(SvidValidationStatus.Expired));
    }

    [Test]
    public void Authorizers_match_as_documented()
    {
        var td = TrustDomain.Parse(Td);
        SpiffeId web = SpiffeId.Parse(WebId);
        SpiffeId webElsewhere = SpiffeId.Parse("spiffe://peer.consul/ns/default/dc/dc1/svc/web");
        SpiffeId api = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/api");
        var service = new ServiceIdentity(new ServiceName("web"), "dc1");
        Assert.Multiple(() =>
        {
            Assert.That(PeerAuthorizer.Exact(web).IsAuthorized(web), Is.True);
            Assert.That(PeerAuthorizer.Exact(web).IsAuthorized(api), Is.False);
            Assert.That(PeerAuthorizer.OneOf([api, web]).IsAuthorized(web), Is.True);
            Assert.That(PeerAuthorizer.OneOf([api]).IsAuthorized(web), Is.False);
            Assert.That(PeerAuthorizer.InTrustDomain(td).IsAuthorized(api), Is.True);
            Assert.That(PeerAuthorizer.InTrustDomain(td).IsAuthorized(webElsewhere), Is.False);
            Assert.That(PeerAuthorizer.Service(service, td).IsAuthorized(webElsewhere), Is.False);
            Assert.That(PeerAuthorizer.Service(service, td, ignoreTrustDomain: true).IsAuthorized(webElsewhere), Is.True);
            Assert.That(PeerAuthorizer.Service(service, td, ignoreTrustDomain: true).IsAuthorized(api), Is.False);
            Assert.That(PeerAuthorizer.AnyValid.IsAuthorized(api), Is.True);
        });
    }

    private static X509Certificate2 Craft(MeshCaRoot root, LeafSpec spec) => CraftedCertificates.Leaf(root, spec);
}
