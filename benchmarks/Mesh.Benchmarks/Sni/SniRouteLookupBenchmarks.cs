using System.Text;
using BenchmarkDotNet.Attributes;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Routing;

namespace Mesh.Benchmarks.Sni;

/// <summary>Route lookup in a gateway-shaped table of 100,000 routes: exact local services plus a wildcard per remote datacenter.</summary>
public class SniRouteLookupBenchmarks
{
    internal const string TrustDomain = "11111111-2222-3333-4444-555555555555.consul";

    private SniRouteTable<int> _table = null!;
    private byte[] _exact = [];
    private byte[] _exactUpper = [];
    private byte[] _wildcard = [];
    private byte[] _miss = [];
    private byte[] _chromium = [];

    internal static SniRouteTable<int> CreateTable()
    {
        var routes = new List<KeyValuePair<string, int>>(100_000);
        for (int i = 0; i < 99_000; i++)
        {
            routes.Add(new($"svc{i}.default.dc1.internal.{TrustDomain}", i));
        }

        for (int i = 0; i < 1_000; i++)
        {
            routes.Add(new($"*.dc{i + 2}.internal.{TrustDomain}", 100_000 + i));
        }

        return new SniRouteTable<int>(routes);
    }

    [GlobalSetup]
    public void Setup()
    {
        _table = CreateTable();
        _exact = Encoding.ASCII.GetBytes($"svc4242.default.dc1.internal.{TrustDomain}");
        _exactUpper = Encoding.ASCII.GetBytes($"SVC4242.Default.DC1.internal.{TrustDomain}.");
        _wildcard = Encoding.ASCII.GetBytes($"counting.default.dc7.internal.{TrustDomain}");
        _miss = Encoding.ASCII.GetBytes($"counting.default.dc1.internal.{TrustDomain}");
        _chromium = SniCorpus.Read("chromium-default");
    }

    [Benchmark]
    public int Exact() => Lookup(_exact);

    [Benchmark]
    public int ExactMixedCaseTrailingDot() => Lookup(_exactUpper);

    [Benchmark]
    public int Wildcard() => Lookup(_wildcard);

    [Benchmark]
    public int Miss() => Lookup(_miss);

    /// <summary>What a gateway does per connection: parse the hello, then route by its server name.</summary>
    [Benchmark]
    public int ParseChromiumThenRoute()
    {
        ClientHelloParser.Parse(_chromium, out ClientHelloInfo hello);
        _table.Lookup(hello.ServerName, out int value);
        return value;
    }

    private int Lookup(byte[] name)
    {
        _table.Lookup(name, out int value);
        return value;
    }
}
