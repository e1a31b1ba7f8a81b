using BenchmarkDotNet.Attributes;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.Validation;

namespace Mesh.Benchmarks.Tls;

/// <summary>Peer validation per handshake: the full X.509-SVID rules and path validation, and a hit in the cache of successful validations.</summary>
public class SvidValidationBenchmarks
{
    private static readonly SpiffeId Web = SpiffeId.Parse("spiffe://example.consul/ns/default/dc/dc1/svc/web");
    private MeshCertificateAuthority _ca = null!;
    private LeafCertificate _leaf = null!;
    private SvidValidator _uncached = null!;
    private SvidValidator _cached = null!;
    private PeerAuthorizer _authorizer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = Web.TrustDomain, UseIntermediate = true, SigningRateLimit = 0 });
        _leaf = _ca.IssueLeaf(Web);
        _uncached = new SvidValidator(_ca.TrustBundleSource, options: new SvidValidatorOptions { CacheCapacity = 0 });
        _cached = new SvidValidator(_ca.TrustBundleSource);
        _authorizer = PeerAuthorizer.Exact(Web);
        if (!_cached.Validate(_leaf.Certificate, _leaf.Intermediates, _authorizer).IsValid)
        {
            throw new InvalidOperationException("The benchmark leaf does not validate.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _ca.Dispose();

    [Benchmark(Baseline = true)]
    public SvidValidationStatus Uncached() => _uncached.Validate(_leaf.Certificate, _leaf.Intermediates, _authorizer).Status;

    [Benchmark]
    [BenchmarkCategory(MeshBenchmarkConfig.ZeroAllocation)]
    public SvidValidationStatus Cached() => _cached.Validate(_leaf.Certificate, _leaf.Intermediates, _authorizer).Status;
}
