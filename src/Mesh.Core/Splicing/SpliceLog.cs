using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Mesh.Splicing;

internal static partial class SpliceLog
{
    [LoggerMessage(MeshLogEvents.SpliceCompleted, LogLevel.Debug, "Splice ended: {End}, {BytesAToB} bytes A to B, {BytesBToA} bytes B to A, kernel path {Kernel}.")]
    public static partial void Completed(ILogger logger, SpliceEnd end, long bytesAToB, long bytesBToA, bool kernel);

    [LoggerMessage(MeshLogEvents.SpliceFailed, LogLevel.Information, "Splice ended: {End}, {BytesAToB} bytes A to B, {BytesBToA} bytes B to A.")]
    public static partial void Failed(ILogger logger, SpliceEnd end, long bytesAToB, long bytesBToA, Exception? error);

    [LoggerMessage(MeshLogEvents.SpliceKernelPathUnavailable, LogLevel.Warning, "splice(2) is unavailable (errno {Errno}); this direction uses the copy loop.")]
    public static partial void KernelPathUnavailable(ILogger logger, int errno);

    [LoggerMessage(MeshLogEvents.AcceptBackoff, LogLevel.Warning, "Out of file descriptors ({Error}) accepting on {Endpoint}; backing off {DelayMs} ms.")]
    public static partial void AcceptBackoff(ILogger logger, System.Net.Sockets.SocketError error, string? endpoint, int delayMs);
}
