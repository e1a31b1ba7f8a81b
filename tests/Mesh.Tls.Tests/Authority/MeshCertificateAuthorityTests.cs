using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.Tests.Support;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.Tests.Authority;

public sealed class MeshCertificateAuthorityTests
{
    private static readonly TrustDomain Td = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");
    private static readonly SpiffeId Web = SpiffeId.Parse("spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/web");

    internal static MeshCertificateAuthority NewCa(CaKeyType keyType = CaKeyType.EcP256, bool intermediate = false, TimeProvider? time = null, double rate = 0) =>
        new(new MeshCaOptions { TrustDomain = Td, KeyType = keyType, UseIntermediate = intermediate, SigningRateLimit = rate }, time);

    [TestCase(CaKeyType.EcP256, "1.2.840.10045.2.1", 256)]
    [TestCase(CaKeyType.EcP384, "1.2.840.10045.2.1", 384)]
    [TestCase(CaKeyType.EcP521, "1.2.840.10045.2.1", 521)]
    [TestCase(CaKeyType.Rsa2048, "1.2.840.113549.1.1.1", 2048)]
    public void Root_has_consuls_profile(CaKeyType keyType, string keyOid, int keySize)
    {
        var time = new ManualTimeProvider();
        using MeshCertificateAuthority ca = NewCa(keyType, time: time);
        X509Certificate2 root = ca.ActiveRoot.Certificate;
        var basic = root.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        var usage = root.Extensions.OfType<X509KeyUsageExtension>().Single();
        byte[] ski = root.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifierBytes.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(root.GetKeyAlgorithm(), Is.EqualTo(keyOid));
            Assert.That(root.PublicKey.GetECDsaPublicKey()?.KeySize ?? root.PublicKey.GetRSAPublicKey()!.KeySize, Is.EqualTo(keySize));
            Assert.That(root.SubjectName.RawData, Is.EqualTo(root.IssuerName.RawData));
            Assert.That(basic.CertificateAuthority, Is.True);
            Assert.That(basic.Critical, Is.True);
            Assert.That(usage.KeyUsages, Is.EqualTo(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature));
            Assert.That(ski, Is.EqualTo(SHA256.HashData(root.PublicKey.ExportSubjectPublicKeyInfo())), "SHA-256 over the whole SPKI DER");
            Assert.That(UriSans(root), Is.EqualTo(new[] { "spiffe://" + Td.Name }));
            Assert.That(new DateTimeOffset(root.NotBefore.ToUniversalTime()), Is.EqualTo(time.GetUtcNow()));
            Assert.That(root.NotAfter.ToUniversalTime() - root.NotBefore.ToUniversalTime(), Is.EqualTo(TimeSpan.FromHours(87600)));
        });
    }

    [Test]
    public void Leaf_has_consuls_profile()
    {
        var time = new ManualTimeProvider();
        using MeshCertificateAuthority ca = NewCa(time: time);
        LeafCertificate leaf = ca.IssueLeaf(Web, ["web.local"], [IPAddress.Loopback]);
        X509Certificate2 cert = leaf.Certificate;
        X509Extension san = cert.Extensions["2.5.29.17"]!;
        var eku = cert.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
        byte[] aki = cert.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single().KeyIdentifier!.Value.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(cert.SubjectName.RawData, Is.EqualTo(new byte[] { 0x30, 0x00 }), "empty subject");
            Assert.That(san.Critical, Is.True, "SAN critical with an empty subject");
            Assert.That(UriSans(cert), Is.EqualTo(new[] { Web.Value }));
            Assert.That(cert.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority, Is.False);
            Assert.That(cert.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages, Is.EqualTo(
                X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DataEncipherment | X509KeyUsageFlags.KeyAgreement));
            Assert.That(eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value), Is.EquivalentTo(new[] { "1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2" }));
            Assert.That(aki, Is.EqualTo(ca.ActiveSigningKeyId.ToArray()));
            Assert.That(cert.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifierBytes.ToArray(),
                Is.EqualTo(SHA256.HashData(cert.PublicKey.ExportSubjectPublicKeyInfo())));
            Assert.That(new DateTimeOffset(cert.NotBefore.ToUniversalTime()), Is.EqualTo(time.GetUtcNow() - TimeSpan.FromMinutes(1)));
            Assert.That(cert.NotAfter - cert.NotBefore, Is.EqualTo(TimeSpan.FromHours(72)));
            Assert.That(cert.SignatureAlgorithm.Value, Is.EqualTo("1.2.840.10045.4.3.2"));
            Assert.That(leaf.Id, Is.EqualTo(Web));
            Assert.That(cert.GetNameInfo(X509NameType.DnsName, false), Is.EqualTo("web.local"));
        });
    }

    [Test]
    public void Openssl_x509_strict_accepts_every_chain_shape()
    {
        string dir = Tools.TempDirectory();
        try
        {
            foreach (CaKeyType keyType in Enum.GetValues<CaKeyType>())
            {
                foreach (bool intermediate in new[] { false, true })
                {
                    if (keyType == CaKeyType.Rsa4096 && intermediate)
                    {
                        continue; // Generating two 4096-bit keys is slow and adds nothing over the 2048-bit case.
                    }

                    using MeshCertificateAuthority ca = NewCa(keyType, intermediate);
                    LeafCertificate leaf = ca.IssueLeaf(Web, ["web.local"]);
                    Verify(dir, ca.ActiveRoot.Certificate, leaf, $"{keyType} intermediate={intermediate}");

                    // After a rotation, a peer holding only the old root still verifies the new leaf through the cross-signature.
                    X509Certificate2 oldRoot = ca.ActiveRoot.Certificate;
                    ca.RotateRoot();
                    LeafCertificate rotated = ca.IssueLeaf(Web);
                    Verify(dir, oldRoot, rotated, $"{keyType} intermediate={intermediate}, old root after rotation");
                    Verify(dir, ca.ActiveRoot.Certificate, rotated, $"{keyType} intermediate={intermediate}, new root after rotation");
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        static void Verify(string dir, X509Certificate2 root, LeafCertificate leaf, string what)
        {
            string rootPath = Tools.WritePem(dir, "root.pem", [root]);
            string leafPath = Tools.WritePem(dir, "leaf.pem", [leaf.Certificate]);
            var args = new List<string> { "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", rootPath };
            if (leaf.Intermediates.Count > 0)
            {
                args.AddRange(["-untrusted", Tools.WritePem(dir, "chain.pem", leaf.Intermediates)]);
            }

            args.Add(leafPath);
            (int code, string output) = Tools.Run("openssl", [.. args]);
            Assert.That(code, Is.Zero, $"{what}: {output}");
        }
    }

    [Test]
    public void Csr_signing_applies_consuls_rules()
    {
        using MeshCertificateAuthority ca = NewCa();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string td = Td.Name;
        var refused = new (byte[] Csr, CertificateSigningError Error)[]
        {
            (TestCsr.Create(key, []), CertificateSigningError.UriSanCount),
            (TestCsr.Create(key, [Web.Value, Web.Value]), CertificateSigningError.UriSanCount),
            (TestCsr.Create(key, [Web.Value], emails: ["a@b.c"]), CertificateSigningError.EmailSan),
            (TestCsr.Create(key, [$"spiffe://{td}/ns/default/dc/dc1/svc/a%2Fb"]), CertificateSigningError.InvalidSpiffeId),
            (TestCsr.Create(key, [$"spiffe://{td.ToUpperInvariant()}/ns/default/dc/dc1/svc/web"]), CertificateSigningError.InvalidSpiffeId),
            (TestCsr.Create(key, [$"spiffe://{td}/ns/default/dc/dc1/svc/./web"]), CertificateSigningError.InvalidSpiffeId),
            (TestCsr.Create(key, [$"spiffe://{td}"]), CertificateSigningError.UnsupportedIdentity),
            (TestCsr.Create(key, [$"spiffe://{td}/workload/x"]), CertificateSigningError.UnsupportedIdentity),
            (TestCsr.Create(key, ["spiffe://other.consul/ns/default/dc/dc1/svc/web"]), CertificateSigningError.WrongTrustDomain),
            (TestCsr.Create(key, [$"spiffe://{td}/ns/default/dc/dc2/svc/web"]), CertificateSigningError.WrongDatacenter),
            (TestCsr.Create(key, [$"spiffe://{td}/gateway/mesh/dc/dc2"]), CertificateSigningError.WrongDatacenter),
            (TestCsr.ResignWithSha1(TestCsr.Create(key, [Web.Value]), key), CertificateSigningError.UnsupportedSignatureAlgorithm),
            (Tamper(TestCsr.Create(key, [Web.Value])), CertificateSigningError.BadSignature),
            ([0x30, 0x03, 0x02, 0x01, 0x00], CertificateSigningError.MalformedRequest),
        };
        Assert.Multiple(() =>
        {
            foreach ((byte[] csr, CertificateSigningError error) in refused)
            {
                var ex = Assert.Throws<CertificateSigningException>(() => ca.SignCsr(csr));
                Assert.That(ex!.Error, Is.EqualTo(error), ex.Message);
            }
        });

        using var rsa1024 = RSA.Create(1024);
        Assert.That(Assert.Throws<CertificateSigningException>(() => ca.SignCsr(TestCsr.Create(rsa1024, [Web.Value])))!.Error,
            Is.EqualTo(CertificateSigningError.UnsupportedKey));
        Assert.That(Assert.Throws<CertificateSigningException>(() => ca.SignCsr(TestCsr.Create(key, [Web.Value]), TimeSpan.FromMinutes(5)))!.Error,
            Is.EqualTo(CertificateSigningError.TtlOutOfRange));

        foreach (string id in new[] { Web.Value, $"spiffe://{td}/gateway/mesh/dc/dc1", $"spiffe://{td}/agent/client/dc/dc1/id/node1", $"spiffe://{td}/agent/server/dc/dc1" })
        {
            SignedCertificate signed = ca.SignCsr(TestCsr.Create(key, [id], dns: ["svc.local"]), TimeSpan.FromHours(2));
            using X509Certificate2 cert = signed.LoadCertificate();
            Assert.Multiple(() =>
            {
                Assert.That(UriSans(cert), Is.EqualTo(new[] { id }));
                Assert.That(cert.GetNameInfo(X509NameType.DnsName, false), Is.EqualTo("svc.local"));
                Assert.That(cert.PublicKey.ExportSubjectPublicKeyInfo(), Is.EqualTo(key.ExportSubjectPublicKeyInfo()));
                Assert.That(signed.NotAfter - signed.NotBefore, Is.EqualTo(TimeSpan.FromHours(2)));
            });
        }
    }

    [Test]
    public void Csr_in_pem_is_signed_and_returned_as_a_pem_chain()
    {
        using MeshCertificateAuthority ca = NewCa(intermediate: true);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        string pem = PemEncoding.WriteString("CERTIFICATE REQUEST", TestCsr.Create(key, [Web.Value]));
        SignedCertificate signed = ca.SignCsr(pem);
        IReadOnlyList<X509Certificate2> chain = MeshPem.ReadCertificates(signed.ToPem());
        Assert.Multiple(() =>
        {
            Assert.That(chain, Has.Count.EqualTo(2));
            Assert.That(chain[0].RawData, Is.EqualTo(signed.CertificateDer.ToArray()));
            Assert.That(chain[1].RawData, Is.EqualTo(ca.ActiveRoot.IntermediateCertificates[0].RawData));
            Assert.That(chain[0].IssuerName.RawData, Is.EqualTo(chain[1].SubjectName.RawData));
        });
    }

    [Test]
    public void Signing_rate_limit_refuses_with_a_clear_error_and_recovers()
    {
        var time = new ManualTimeProvider();
        using MeshCertificateAuthority ca = NewCa(time: time, rate: 5);
        for (int i = 0; i < 5; i++)
        {
            ca.IssueLeaf(Web);
        }

        var ex = Assert.Throws<CertificateSigningException>(() => ca.IssueLeaf(Web));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Error, Is.EqualTo(CertificateSigningError.RateLimited));
            Assert.That(ex.Message, Does.Contain("5 certificates per second"));
        });

        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.DoesNotThrow(() => ca.IssueLeaf(Web));
        using MeshCertificateAuthority unlimited = NewCa(rate: 0);
        for (int i = 0; i < 100; i++)
        {
            unlimited.IssueLeaf(Web);
        }
    }

    [Test]
    public void Rotation_cross_signs_the_new_root_and_the_bundle_holds_both_until_removal()
    {
        var time = new ManualTimeProvider();
        using MeshCertificateAuthority ca = NewCa(time: time);
        MeshCaRoot old = ca.ActiveRoot;
        long version = ca.TrustBundleSource.Current.Version;
        bool fired = false;
        ca.GetSigningKeyChangeToken().RegisterChangeCallback(_ => fired = true, null);
        MeshCaRoot fresh = ca.RotateRoot();
        X509Certificate2 cross = fresh.IntermediateCertificates[0];
        Assert.Multiple(() =>
        {
            Assert.That(fired, Is.True);
            Assert.That(ca.ActiveRoot, Is.SameAs(fresh));
            Assert.That(old.Active, Is.False);
            Assert.That(old.RotatedOutAt, Is.EqualTo(time.GetUtcNow()));
            Assert.That(cross.SubjectName.RawData, Is.EqualTo(fresh.Certificate.SubjectName.RawData));
            Assert.That(cross.IssuerName.RawData, Is.EqualTo(old.Certificate.SubjectName.RawData));
            Assert.That(cross.PublicKey.ExportSubjectPublicKeyInfo(), Is.EqualTo(fresh.Certificate.PublicKey.ExportSubjectPublicKeyInfo()));
            Assert.That(cross.NotAfter - cross.NotBefore, Is.EqualTo(TimeSpan.FromDays(7)));
            Assert.That(ca.TrustBundleSource.Current.Version, Is.GreaterThan(version));
            Assert.That(ca.TrustBundleSource.Current.TryGetRoots(Td, out IReadOnlyList<X509Certificate2> roots), Is.True);
            Assert.That(roots, Has.Count.EqualTo(2));
        });

        Assert.That(ca.RemoveRoot(old), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(ca.TrustBundleSource.Current.TryGetRoots(Td, out IReadOnlyList<X509Certificate2> roots), Is.True);
            Assert.That(roots.Select(r => r.Thumbprint), Is.EqualTo(new[] { fresh.Certificate.Thumbprint }));
            Assert.That(ca.IssueLeaf(Web).Intermediates, Is.Empty, "no cross-signature once the old root is gone");
            Assert.Throws<InvalidOperationException>(() => ca.RemoveRoot(fresh));
        });
    }

    [Test]
    public void Rotated_out_roots_are_pruned_after_twice_the_leaf_ttl()
    {
        var time = new ManualTimeProvider();
        using MeshCertificateAuthority ca = NewCa(time: time);
        MeshCaRoot old = ca.ActiveRoot;
        ca.RotateRoot();
        time.Advance(TimeSpan.FromHours(143));
        Assert.That(ca.PruneRoots(), Is.Zero, "leaves of the old root may still be valid");
        time.Advance(TimeSpan.FromHours(1));
        Assert.Multiple(() =>
        {
            Assert.That(ca.PruneRoots(), Is.EqualTo(1));
            Assert.That(ca.Roots, Does.Not.Contain(old));
            Assert.That(ca.Roots, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public void Pem_keys_and_certificates_round_trip()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var rsa = RSA.Create(2048);
        using AsymmetricAlgorithm fromSec1 = MeshPem.ReadPrivateKey(MeshPem.WriteEcPrivateKey(ec));
        using AsymmetricAlgorithm fromPkcs8 = MeshPem.ReadPrivateKey(MeshPem.WritePkcs8PrivateKey(ec));
        using AsymmetricAlgorithm rsaFromPkcs8 = MeshPem.ReadPrivateKey(MeshPem.WritePkcs8PrivateKey(rsa));
        using AsymmetricAlgorithm rsaFromPkcs1 = MeshPem.ReadPrivateKey(rsa.ExportRSAPrivateKeyPem());
        using MeshCertificateAuthority ca = NewCa(intermediate: true);
        LeafCertificate leaf = ca.IssueLeaf(Web);
        string chainPem = MeshPem.WriteCertificates([leaf.Certificate, .. leaf.Intermediates]);
        Assert.Multiple(() =>
        {
            Assert.That(((ECDsa)fromSec1).ExportSubjectPublicKeyInfo(), Is.EqualTo(ec.ExportSubjectPublicKeyInfo()));
            Assert.That(((ECDsa)fromPkcs8).ExportSubjectPublicKeyInfo(), Is.EqualTo(ec.ExportSubjectPublicKeyInfo()));
            Assert.That(((RSA)rsaFromPkcs8).ExportSubjectPublicKeyInfo(), Is.EqualTo(rsa.ExportSubjectPublicKeyInfo()));
            Assert.That(((RSA)rsaFromPkcs1).ExportSubjectPublicKeyInfo(), Is.EqualTo(rsa.ExportSubjectPublicKeyInfo()));
            Assert.That(MeshPem.ReadCertificates(chainPem).Select(c => c.Thumbprint), Is.EqualTo(new[] { leaf.Certificate.Thumbprint, leaf.Intermediates[0].Thumbprint }));
            Assert.Throws<CryptographicException>(() => MeshPem.ReadPrivateKey(chainPem));
        });
    }

    [Test]
    public void Spiffe_bundle_json_round_trips_and_refuses_bad_documents()
    {
        using MeshCertificateAuthority ec = NewCa();
        using MeshCertificateAuthority rsa = NewCa(CaKeyType.Rsa2048);
        string json = SpiffeBundle.Write([ec.ActiveRoot.Certificate, rsa.ActiveRoot.Certificate], 7, TimeSpan.FromMinutes(5));
        IReadOnlyList<X509Certificate2> roots = SpiffeBundle.Read(json, out long? sequence);
        Assert.Multiple(() =>
        {
            Assert.That(json, Does.Contain("\"use\": \"x509-svid\"").And.Contain("\"crv\": \"P-256\"").And.Contain("\"spiffe_refresh_hint\": 300"));
            Assert.That(sequence, Is.EqualTo(7));
            Assert.That(roots.Select(r => r.Thumbprint), Is.EqualTo(new[] { ec.ActiveRoot.Certificate.Thumbprint, rsa.ActiveRoot.Certificate.Thumbprint }));
            Assert.Throws<FormatException>(() => SpiffeBundle.Read("{}", out _));
            Assert.Throws<FormatException>(() => SpiffeBundle.Read("{\"keys\":[{\"use\":\"x509-svid\",\"kty\":\"EC\",\"x5c\":[]}]}", out _));
            Assert.Throws<FormatException>(() => SpiffeBundle.Read("not json", out _));
            Assert.That(SpiffeBundle.Read("{\"keys\":[{\"use\":\"jwt-svid\",\"kty\":\"EC\"}]}", out _), Is.Empty);
        });
    }

    [Test]
    public void Options_that_break_consuls_constraints_are_refused()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => new MeshCertificateAuthority(new MeshCaOptions()),
                Throws.TypeOf<OptionsValidationException>().With.Message.Contains("MeshCaOptions.TrustDomain is required"));
            Assert.That(() => new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Td, LeafTtl = TimeSpan.FromMinutes(5) }),
                Throws.TypeOf<OptionsValidationException>().With.Message.Contains("MeshCaOptions.LeafTtl"));
            Assert.That(() => new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Td, UseIntermediate = true, IntermediateTtl = TimeSpan.FromHours(100) }),
                Throws.TypeOf<OptionsValidationException>().With.Message.Contains("MeshCaOptions.IntermediateTtl").And.Message.Contains("3 × LeafTtl"));
            Assert.That(() => new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Td, Datacenter = "dc.1" }),
                Throws.TypeOf<OptionsValidationException>().With.Message.Contains("MeshCaOptions.Datacenter"));
        });
    }

    internal static string[] UriSans(X509Certificate2 certificate)
    {
        X509Extension? san = certificate.Extensions["2.5.29.17"];
        if (san is null)
        {
            return [];
        }

        var list = new List<string>();
        AsnReader names = new AsnReader(san.RawData, AsnEncodingRules.DER).ReadSequence();
        while (names.HasData)
        {
            Asn1Tag tag = names.PeekTag();
            if (tag.HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 6)))
            {
                list.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, tag));
            }
            else
            {
                names.ReadEncodedValue();
            }
        }

        return [.. list];
    }

    private static byte[] Tamper(byte[] csr)
    {
        byte[] copy = (byte[])csr.Clone();
        copy[^3] ^= 0x01;
        return copy;
    }
}
