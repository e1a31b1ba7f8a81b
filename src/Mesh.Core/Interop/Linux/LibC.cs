using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Mesh.Interop.Linux;

/// <summary>
/// The libc calls of the kernel splice path: <c>splice(2)</c> through a pipe, and what a pipe needs; and epoll, for the
/// threads that wait for idle splice sources to become readable. Blittable signatures: no
/// marshalling, AOT-friendly. Errors come back as <see cref="Marshal.GetLastPInvokeError"/>, compared with <see cref="Errno"/>.
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe partial class LibC
{
    private const string Library = "libc";

    // Linux, the same on x86-64 and arm64 (asm-generic).
    public const uint SpliceMove = 1;
    public const uint SpliceNonBlock = 2;
    public const int ONonBlock = 0x800;
    public const int OCloExec = 0x80000;
    public const int FSetPipeSize = 1031;
    public const int FGetFl = 3;
    public const int FSetFl = 4;
    public const int MsgDontWait = 0x40;
    public const int EpollCloExec = 0x80000;
    public const int EpollCtlAdd = 1;
    public const uint EpollIn = 0x1;
    public const uint EpollErr = 0x8;
    public const uint EpollHup = 0x10;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEdge = 1u << 31;
    public const short PollIn = 0x1;

    [LibraryImport(Library, EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    [LibraryImport(Library, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    /// <summary>poll(2): unlike a read, it leaves a pending socket error (a reset) for the read that follows.</summary>
    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    /// <summary>epoll_ctl(2); <paramref name="evt"/> is a struct epoll_event in this architecture's layout (<see cref="EpollEvents"/>).</summary>
    [LibraryImport(Library, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epoll, int operation, int fd, byte* evt);

    [LibraryImport(Library, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epoll, byte* events, int maxEvents, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);
}
