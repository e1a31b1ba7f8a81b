using System.Text;
using BenchmarkDotNet.Attributes;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Routing;

namespace Mesh.Benchmarks.Sni;

/// <summary>Route lookup in a gateway-shaped table of 100,000 routes: exact local services plus a wildcard per remote datacenter.</summary>
/// <remarks>
/// The single-name cases keep one name's table lines in the first-level cache. The <c>Rotating*</c> cases look up 10,000
/// different names in a shuffled order, as a busy gateway does, so each lookup finds the table's lines for its name cold;
/// each reports the time of one lookup. The names lie back to back in the order they are looked up, so that reading them is
/// as cheap as reading a server name just parsed from a hello in the receive buffer: what is measured is the table.
/// </remarks>
public class SniRouteLookupBenchmarks
{
    internal const string TrustDomain = "11111111-2222-3333-4444-555555555555.consul";

    private const int RotatingNameCount = 10_000;

    private SniRouteTable<int> _table = null!;
    private byte[] _exact = [];
    private byte[] _exactUpper = [];
    private byte[] _wildcard = [];
    private byte[] _miss = [];
    private byte[] _chromium = [];
    private RotatingNames _rotatingExact = null!;
    private RotatingNames _rotatingWildcard = null!;
    private RotatingNames _rotatingMiss = null!;

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

        // A fixed seed: every run and every version of the table sees the same names in the same order.
        var random = new Random(20261206);
        _rotatingExact = Rotating(random, i => $"svc{random.Next(99_000)}.default.dc1.internal.{TrustDomain}");
        _rotatingWildcard = Rotating(random, i => $"svc{i}.ns{i % 7}.dc{random.Next(1_000) + 2}.internal.{TrustDomain}");
        _rotatingMiss = Rotating(random, i => $"svc{99_000 + random.Next(900_000)}.default.dc1.internal.{TrustDomain}");
    }

    [Benchmark]
    public int Exact() => Lookup(_exact);

    [Benchmark]
    public int ExactMixedCaseTrailingDot() => Lookup(_exactUpper);

    [Benchmark]
    public int Wildcard() => Lookup(_wildcard);

    [Benchmark]
    public int Miss() => Lookup(_miss);

    /// <summary>10,000 exact names from the 99,000, shuffled.</summary>
    [Benchmark(OperationsPerInvoke = RotatingNameCount)]
    public int RotatingExact() => LookupAll(_rotatingExact);

    /// <summary>10,000 names of remote services, each under one of the 1,000 datacenter wildcards.</summary>
    [Benchmark(OperationsPerInvoke = RotatingNameCount)]
    public int RotatingWildcard() => LookupAll(_rotatingWildcard);

    /// <summary>10,000 local-looking names no route has: the exact probe and the wildcard suffixes all miss.</summary>
    [Benchmark(OperationsPerInvoke = RotatingNameCount)]
    public int RotatingMiss() => LookupAll(_rotatingMiss);

    /// <summary>What a gateway does per connection: parse the hello, then route by its server name.</summary>
    [Benchmark]
    public int ParseChromiumThenRoute()
    {
        ClientHelloParser.Parse(_chromium, out ClientHelloInfo hello);
        _table.Lookup(hello.ServerName, out int value);
        return value;
    }

    private static RotatingNames Rotating(Random random, Func<int, string> name)
    {
        var names = new string[RotatingNameCount];
        for (int i = 0; i < names.Length; i++)
        {
            names[i] = name(i);
        }

        random.Shuffle(names);
        var ends = new int[names.Length];
        int end = 0;
        for (int i = 0; i < names.Length; i++)
        {
            end += names[i].Length;
            ends[i] = end;
        }

        return new RotatingNames(Encoding.ASCII.GetBytes(string.Concat(names)), ends);
    }

    private int Lookup(byte[] name)
    {
        _table.Lookup(name, out int value);
        return value;
    }

    private int LookupAll(RotatingNames names)
    {
        SniRouteTable<int> table = _table;
        ReadOnlySpan<byte> bytes = names.Bytes;
        int sum = 0;
        int start = 0;
        foreach (int end in names.Ends)
        {
            table.Lookup(bytes[start..end], out int value);
            sum += value;
            start = end;
        }

        return sum;
    }

    private sealed record RotatingNames(byte[] Bytes, int[] Ends);
}
