using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Mesh.Benchmarks;

/// <summary>
/// The configuration every Mesh benchmark shares: memory diagnostics always on, the median and fastest iteration beside the
/// mean, and a JSON report CI reads to fail when a benchmark of the <see cref="ZeroAllocation"/> category allocates.
/// </summary>
/// <remarks>
/// On a shared host whose speed switches between levels every few seconds, the mean of ten one-second iterations mixes the
/// levels; the median and the minimum show the quieter one.
/// </remarks>
public static class MeshBenchmarkConfig
{
    /// <summary>Category of benchmarks whose steady state must allocate nothing; CI fails when one does.</summary>
    public const string ZeroAllocation = "ZeroAllocation";

    public static IConfig Default() => DefaultConfig.Instance
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddColumn(StatisticColumn.Median, StatisticColumn.Min)
        .AddExporter(JsonExporter.Full);

    /// <summary>In-process toolchain and a short job: enough to see allocations and rough timings in a CI run.</summary>
    public static IConfig ForCi() => DefaultConfig.Instance
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddExporter(JsonExporter.Full)
        .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithIterationCount(3).WithWarmupCount(1).WithLaunchCount(1))
        .WithOptions(ConfigOptions.DisableOptimizationsValidator);
}
