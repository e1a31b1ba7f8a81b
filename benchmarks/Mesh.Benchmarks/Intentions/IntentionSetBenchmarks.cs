using BenchmarkDotNet.Attributes;
using Mesh.Intentions;

namespace Mesh.Benchmarks.Intentions;

/// <summary>Decisions that are reported rather than held to zero allocations, and building a large snapshot.</summary>
public class IntentionSetBenchmarks
{
    private List<Intention> _intentions = [];
    private IntentionSet _regexSet = IntentionSet.Empty;
    private IntentionHttpRequest _request;

    [GlobalSetup]
    public void Setup()
    {
        _intentions = IntentionWorkload.Build(10_000, 10);
        _regexSet = IntentionDecisionFixtures.L7Set(regex: true);
        _request = IntentionDecisionFixtures.Request();
    }

    [Benchmark(Description = "L7, 3 permissions, path regex")]
    public bool L7Regex() => _regexSet.DecideHttp(IntentionDecisionFixtures.Web, IntentionDecisionFixtures.Api, ref _request).IsAllowed;

    [Benchmark(Description = "Build snapshot of 100,000 intentions")]
    public int Build100k() => new IntentionSet(_intentions).Count;
}
