using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Mesh.Interop.Linux;

/// <summary>
/// The errno values the data plane acts on, and what they mean to it: the one table for every libc call of the mesh. Linux,
/// the same on x86-64 and arm64 (asm-generic).
/// </summary>
[SupportedOSPlatform("linux")]
internal static class Errno
{
    public const int EIntr = 4;
    public const int EBadF = 9;
    public const int EAgain = 11;
    public const int ENoMem = 12;
    public const int EInval = 22;
    public const int ENFile = 23;
    public const int EMFile = 24;
    public const int EPipe = 32;
    public const int ENoSys = 38;
    public const int EOpNotSupp = 95;
    public const int EConnAborted = 103;
    public const int EConnReset = 104;
    public const int ENoBufs = 105;
    public const int ENotConn = 107;
    public const int ETimedOut = 110;
    public const int EInProgress = 115;

    /// <summary>Errors that say splice(2) cannot be used on these descriptors, as opposed to a failing connection.</summary>
    public static bool MeansUnsupported(int errno) => errno is EInval or ENoSys or EOpNotSupp or EBadF;

    /// <summary>
    /// The socket error a failed call on a connection stands for, so that a kernel-path failure ends a splice the way the
    /// same failure met by <see cref="Socket"/> does (a peer's reset, abort or close is a reset by that side).
    /// </summary>
    public static SocketError ToSocketError(int errno) => errno switch
    {
        EConnReset => SocketError.ConnectionReset,
        EPipe => SocketError.Shutdown,
        EConnAborted => SocketError.ConnectionAborted,
        ENotConn => SocketError.NotConnected,
        ETimedOut => SocketError.TimedOut,
        _ => SocketError.SocketError,
    };
}
