using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Splicing;

/// <summary>
/// The log lines and instruments of splices: what <see cref="TcpSplicer"/> writes for each splice, for an engine that moves
/// the bytes itself (the mesh gateway's Linux event loop), so that every splice of a process is counted by the same
/// instruments (<see cref="Diagnostics.MeshMetrics.SpliceMeter"/>) and logged with the same event IDs, whichever engine ran it.
/// </summary>
/// <remarks>Thread-safe; recording allocates nothing. Call <see cref="Started"/> once per splice and <see cref="Ended"/> once after it.</remarks>
public sealed class SpliceTelemetry
{
    private static int s_kernelPathReported;
    private readonly ILogger _logger;
    private readonly SpliceMetrics _metrics;

    /// <summary>Creates the telemetry of a splice engine.</summary>
    /// <param name="logger">Receives the splice log lines (the category of <see cref="TcpSplicer"/>'s).</param>
    /// <param name="meterFactory">Creates the splice meter; a process-wide meter when null.</param>
    public SpliceTelemetry(ILogger<TcpSplicer>? logger = null, IMeterFactory? meterFactory = null)
    {
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _metrics = meterFactory is null ? SpliceMetrics.Shared : new SpliceMetrics(meterFactory);
    }

    internal ILogger Logger => _logger;

    /// <summary>A splice began moving bytes.</summary>
    public void Started() => _metrics.Started();

    /// <summary><paramref name="bytes"/> moved from A to B (<paramref name="aToB"/>) or from B to A.</summary>
    public void Moved(long bytes, bool aToB) => _metrics.Moved(bytes, aToB);

    /// <summary>A splice ended: counts it by how it ended, and logs it (Debug when both sides closed cleanly, Information otherwise).</summary>
    public void Ended(SpliceResult result)
    {
        _metrics.Ended(result.End);
        if (result.End == SpliceEnd.Completed)
        {
            SpliceLog.Completed(_logger, result.End, result.BytesAToB, result.BytesBToA, result.UsedKernelPath);
        }
        else
        {
            SpliceLog.Failed(_logger, result.End, result.BytesAToB, result.BytesBToA, result.Error);
        }
    }

    /// <summary>
    /// splice(2) failed with <paramref name="errno"/> in a way that means the kernel path cannot be used here: logged once per
    /// process (a Warning), as the direction falls back to copying.
    /// </summary>
    public void KernelPathUnavailable(int errno)
    {
        if (Interlocked.Exchange(ref s_kernelPathReported, 1) == 0)
        {
            SpliceLog.KernelPathUnavailable(_logger, errno);
        }
    }
}
