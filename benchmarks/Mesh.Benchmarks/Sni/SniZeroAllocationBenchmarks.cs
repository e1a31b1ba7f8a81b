using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Routing;

namespace Mesh.Benchmarks.Sni;

/// <summary>The SNI hot path CI holds to 0 B: a parse whole, a parse in 512-byte segments, and a lookup among 100,000 routes.</summary>
[BenchmarkCategory(MeshBenchmarkConfig.ZeroAllocation)]
public class SniZeroAllocationBenchmarks
{
    private byte[] _chromium = [];
    private ReadOnlySequence<byte> _hugeAlpn512;
    private byte[] _curl = [];
    private SniRouteTable<int> _routes = null!;
    private byte[] _remoteName = [];

    [GlobalSetup]
    public void Setup()
    {
        _chromium = SniCorpus.Read("chromium-default");
        _curl = SniCorpus.Read("curl-default");
        _hugeAlpn512 = SniCorpus.Segmented(SniCorpus.Read("openssl-huge-alpn"), 512);
        _routes = SniRouteLookupBenchmarks.CreateTable();
        _remoteName = Encoding.ASCII.GetBytes("counting.default.dc7.internal." + SniRouteLookupBenchmarks.TrustDomain);
    }

    [Benchmark]
    public int ParseChromium()
    {
        ClientHelloParser.Parse(_chromium, out ClientHelloInfo hello);
        return hello.ServerName.Length;
    }

    [Benchmark]
    public int ParseCurl()
    {
        ClientHelloParser.Parse(_curl, out ClientHelloInfo hello);
        return hello.ServerName.Length;
    }

    [Benchmark]
    public int ParseHugeAlpnIn512ByteSegments()
    {
        ClientHelloParser.Parse(_hugeAlpn512, out ClientHelloInfo hello);
        return hello.ServerName.Length;
    }

    [Benchmark]
    public int RouteLookupWildcardAt100kRoutes()
    {
        _routes.Lookup(_remoteName, out int value);
        return value;
    }
}
