using System.Text;
using BenchmarkDotNet.Attributes;
using Mesh.Identity;

namespace Mesh.Benchmarks.Identity;

/// <summary>Validating a peer's URI SAN bytes, as done for every handshake that misses the validation cache.</summary>
[BenchmarkCategory(MeshBenchmarkConfig.ZeroAllocation)]
public class SpiffeIdBenchmarks
{
    private byte[] _serviceId = [];

    [GlobalSetup]
    public void Setup() =>
        _serviceId = Encoding.ASCII.GetBytes("spiffe://7f42f496-fbc7-8692-05ed-334aa5340c1e.consul/ns/default/dc/dc1/svc/dashboard");

    [Benchmark]
    public SpiffeIdError ValidateUtf8() => SpiffeId.Validate(_serviceId);

}
