using BenchmarkDotNet.Configs;

namespace Mesh.Benchmarks.Tls;

/// <summary>The shared configuration, with results grouped by category so each ratio compares like with like.</summary>
public class TlsBenchmarkConfig : ManualConfig
{
    public TlsBenchmarkConfig()
    {
        Add(MeshBenchmarkConfig.Default());
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
    }
}
