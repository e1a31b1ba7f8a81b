using System.Net.Sockets;
using System.Runtime.Versioning;

namespace Mesh.Interop.Linux;

/// <summary>
/// The errno values the data plane acts on, and what they mean to it: the one table for every libc call of the Mesh packages
/// (Mesh.Core's kernel splice path and Mesh.Sni's gateway event loop), compared with <see cref="System.Runtime.InteropServices.Marshal.GetLastPInvokeError"/>.
/// Linux, the same on x86-64 and arm64 (asm-generic).
/// </summary>
[SupportedOSPlatform("linux")]
public static class Errno
{
    /// <summary>Interrupted system call.</summary>
    public const int EIntr = 4;
    /// <summary>Bad file descriptor.</summary>
    public const int EBadF = 9;
    /// <summary>Try again: a non-blocking call would block (also EWOULDBLOCK).</summary>
    public const int EAgain = 11;
    /// <summary>Out of kernel memory.</summary>
    public const int ENoMem = 12;
    /// <summary>Invalid argument.</summary>
    public const int EInval = 22;
    /// <summary>The system's file table is full.</summary>
    public const int ENFile = 23;
    /// <summary>The process has too many open files.</summary>
    public const int EMFile = 24;
    /// <summary>Broken pipe: the peer closed.</summary>
    public const int EPipe = 32;
    /// <summary>The call is not implemented.</summary>
    public const int ENoSys = 38;
    /// <summary>The operation is not supported on this descriptor.</summary>
    public const int EOpNotSupp = 95;
    /// <summary>The connection was aborted.</summary>
    public const int EConnAborted = 103;
    /// <summary>The connection was reset by the peer.</summary>
    public const int EConnReset = 104;
    /// <summary>No buffer space available.</summary>
    public const int ENoBufs = 105;
    /// <summary>The socket is not connected.</summary>
    public const int ENotConn = 107;
    /// <summary>The connection timed out.</summary>
    public const int ETimedOut = 110;
    /// <summary>A non-blocking connect is in progress.</summary>
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
