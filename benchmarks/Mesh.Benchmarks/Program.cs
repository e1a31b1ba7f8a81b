using BenchmarkDotNet.Running;
using Mesh.Benchmarks;

// Usage: dotnet run -c Release --project benchmarks/Mesh.Benchmarks -- --filter '*'
// CI:    ... -- --ci   (the zero-allocation subset, in-process, short job; see .ci/check-benchmarks)
if (args.Length > 0 && args[0] == "--ci")
{
    BenchmarkSwitcher.FromAssembly(typeof(MeshBenchmarkConfig).Assembly)
        .Run(["--anyCategories", MeshBenchmarkConfig.ZeroAllocation, "--filter", "*", .. args[1..]], MeshBenchmarkConfig.ForCi());
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(MeshBenchmarkConfig).Assembly).Run(args, MeshBenchmarkConfig.Default());
