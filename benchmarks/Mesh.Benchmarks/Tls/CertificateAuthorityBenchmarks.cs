using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BenchmarkDotNet.Attributes;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.Rotation;

namespace Mesh.Benchmarks.Tls;

/// <summary>
/// CSR signing against the floor of .NET's own steps (import the CSR's key, verify its signature, sign once), and issuing a leaf for
/// an already-checked key against a bare ECDSA P-256 signature and the naive <c>CertificateRequest.Create</c> path.
/// </summary>
[Config(typeof(TlsBenchmarkConfig))]
public class CertificateAuthorityBenchmarks
{
    private static readonly SpiffeId Web = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/web");
    private MeshCertificateAuthority _ca = null!;
    private byte[] _csr = null!;
    private byte[] _csrInfo = null!;
    private byte[] _csrSignature = null!;
    private byte[] _spki = null!;
    private byte[] _tbsSizedData = null!;
    private ECDsa _caKey = null!;
    private ECDsa _leafKey = null!;
    private CertificateRequest _naiveRequest = null!;
    private X509Certificate2 _naiveIssuer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Web.TrustDomain, SigningRateLimit = 0 });
        _leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _csr = CertificateAuthorityLeafIssuer.CreateSigningRequest(_leafKey, Web, []);
        _spki = _leafKey.ExportSubjectPublicKeyInfo();
        AsnReader request = new AsnReader(_csr, AsnEncodingRules.DER).ReadSequence();
        _csrInfo = request.ReadEncodedValue().ToArray();
        request.ReadSequence();
        _csrSignature = request.ReadBitString(out _);
        _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _tbsSizedData = _ca.Issue(_spki, Web, null, null, TimeSpan.FromHours(72)).Der[..400];

        using var rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var rootRequest = new CertificateRequest("CN=naive root", rootKey, HashAlgorithmName.SHA256);
        rootRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        _naiveIssuer = rootRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        _naiveRequest = new CertificateRequest(new X500DistinguishedName(""), _leafKey, HashAlgorithmName.SHA256);
        _naiveRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        _naiveRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ca.Dispose();
        _caKey.Dispose();
        _leafKey.Dispose();
        _naiveIssuer.Dispose();
    }

    /// <summary>.NET's floor for signing a CSR: import its public key, verify its signature, sign a TBS-sized buffer once.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("CsrSigning")]
    public byte[] DotNetFloor_ImportVerifySign()
    {
        using ECDsa key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(_spki, out _);
        if (!key.VerifyData(_csrInfo, _csrSignature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))
        {
            throw new InvalidOperationException("The CSR did not verify.");
        }

        return _caKey.SignData(_tbsSizedData, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
    }

    /// <summary>The mesh CA's CSR path: parse, Consul's rules, import and verify, encode the leaf from the template, sign.</summary>
    [Benchmark]
    [BenchmarkCategory("CsrSigning")]
    public SignedCertificate SignCsr() => _ca.SignCsr(_csr);

    /// <summary>A bare ECDSA P-256 signature over a TBS-sized buffer: the floor of leaf issuing.</summary>
    [Benchmark]
    [BenchmarkCategory("LeafIssue")]
    public byte[] EcdsaP256SignOnly() => _caKey.SignData(_tbsSizedData, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    /// <summary>The CA's signer alone (OpenSSL with a reused, initialised context on Linux), over the same buffer.</summary>
    [Benchmark]
    [BenchmarkCategory("LeafIssue")]
    public int CaSignerOnly()
    {
        Span<byte> signature = stackalloc byte[80];
        return _ca.ActiveRoot.LeafSigner.TrySign(_tbsSizedData, signature, out int written) ? written : 0;
    }

    /// <summary>Issuing Consul's leaf profile for an already-checked key: TBSCertificate encoded from the template and signed once.</summary>
    [Benchmark]
    [BenchmarkCategory("LeafIssue")]
    public SignedCertificate IssueLeafForCheckedKey() => _ca.Issue(_spki, Web, null, null, TimeSpan.FromHours(72));

    /// <summary>The naive path: <c>CertificateRequest.Create</c>.</summary>
    [Benchmark]
    [BenchmarkCategory("LeafIssue")]
    public X509Certificate2 NaiveCertificateRequestCreate()
    {
        X509Certificate2 certificate = _naiveRequest.Create(_naiveIssuer, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(72), [1, 2, 3, 4]);
        certificate.Dispose();
        return certificate;
    }
}
