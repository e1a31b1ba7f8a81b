using BenchmarkDotNet.Attributes;
using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Benchmarks.Intentions;

/// <summary>
/// Deciding a connection or a request, as done for every inbound connection and HTTP request. The L4 lookups rotate over
/// 1,024 (source, destination) pairs spread across the set, so the figure is not one hot cache line.
/// </summary>
[BenchmarkCategory(MeshBenchmarkConfig.ZeroAllocation)]
public class IntentionDecisionBenchmarks
{
    private IntentionSet _large = IntentionSet.Empty;
    private IntentionSet _small = IntentionSet.Empty;
    private IntentionSet _l7 = IntentionSet.Empty;
    private (ServiceName Source, ServiceName Destination)[] _largePairs = [];
    private (ServiceName Source, ServiceName Destination)[] _smallPairs = [];
    private IntentionHttpRequest _request;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        // 100,000 intentions over 10,000 destinations, and the same shape at 10.
        _large = new IntentionSet(IntentionWorkload.Build(10_000, 10));
        _largePairs = IntentionWorkload.Pairs(10_000, 10);
        _small = new IntentionSet(IntentionWorkload.Build(1, 9));
        _smallPairs = IntentionWorkload.Pairs(1, 9);
        _l7 = IntentionDecisionFixtures.L7Set(regex: false);
        _request = IntentionDecisionFixtures.Request();
    }

    [Benchmark(Description = "L4, 100,000 intentions / 10,000 destinations")]
    public bool L4Large()
    {
        var (source, destination) = _largePairs[_next++ & (IntentionWorkload.PairCount - 1)];
        return _large.Decide(source, destination).IsAllowed;
    }

    [Benchmark(Description = "L4, 10 intentions")]
    public bool L4Small()
    {
        var (source, destination) = _smallPairs[_next++ & (IntentionWorkload.PairCount - 1)];
        return _small.Decide(source, destination).IsAllowed;
    }

    [Benchmark(Description = "L7, 3 permissions, no regex")]
    public bool L7NoRegex() => _l7.DecideHttp(IntentionDecisionFixtures.Web, IntentionDecisionFixtures.Api, ref _request).IsAllowed;
}
