using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Mesh.Sni.Interop.Linux;

/// <summary>
/// Every libc call of this package: the gateway's event loop (Linux only) — epoll, sockets created non-blocking (no <c>fcntl</c>
/// afterwards), socket addresses written and read in place, and <c>splice(2)</c> through the kernel pipes it rents from
/// <see cref="Mesh.Splicing.KernelPipePool"/>. Blittable signatures: no marshalling. Errors come back as
/// <see cref="Marshal.GetLastPInvokeError"/>, compared with Mesh.Core's one errno table, <see cref="Mesh.Interop.Linux.Errno"/>.
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe partial class LinuxSockets
{
    private const string LibC = "libc";

    public const int AfInet = 2;
    public const int AfInet6 = 10;
    public const int SockStream = 1;
    public const int SockNonBlock = 0x800;
    public const int SockCloExec = 0x80000;
    public const int SolSocket = 1;
    public const int SoError = 4;
    public const int SoLinger = 13;
    public const int IpProtoTcp = 6;
    public const int TcpNoDelay = 1;
    public const int TcpDeferAccept = 9;
    public const int SchedOther = 0;
    public const int SchedBatch = 3;
    public const int ShutWrite = 1;
    public const int MsgNoSignal = 0x4000;
    public const uint SpliceMove = 1;
    public const uint SpliceNonBlock = 2;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCtlMod = 3;
    public const uint EpollIn = 0x1;
    public const uint EpollOut = 0x4;
    public const uint EpollErr = 0x8;
    public const uint EpollHup = 0x10;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEdge = 1u << 31;

    /// <summary>Anything that says the peer has ended or failed: the source must be read until it tells which.</summary>
    public const uint EpollEnded = EpollRdHup | EpollHup | EpollErr;


    /// <summary>The largest socket address (sockaddr_in6).</summary>
    public const int SocketAddressSize = 28;

    // struct epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere (16 bytes, the data at offset 8).
    private static readonly bool s_packedEvents = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Whether this process can run the event loop: Linux on x86-64 or arm64.</summary>
    public static bool Available => OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>Bytes per epoll_event on this architecture.</summary>
    public static int EventSize => s_packedEvents ? 12 : 16;

    [LibraryImport(LibC, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport(LibC, EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int operation, int fd, byte* evt);

    [LibraryImport(LibC, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epoll, byte* events, int maxEvents, int timeoutMs);

    [LibraryImport(LibC, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(LibC, EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept(int fd, byte* address, int* length, int flags);

    [LibraryImport(LibC, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(LibC, EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, byte* address, int length);

    [LibraryImport(LibC, EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, byte* address, int length);

    [LibraryImport(LibC, EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, byte* address, int* length);

    [LibraryImport(LibC, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, int length);

    [LibraryImport(LibC, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, void* value, int* length);

    [LibraryImport(LibC, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Receive(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(LibC, EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(LibC, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport(LibC, EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    [LibraryImport(LibC, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(LibC, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, void* buffer, nuint count);

    /// <summary>sched_setscheduler(2); pid 0 is the calling thread, <paramref name="parameters"/> a struct sched_param.</summary>
    [LibraryImport(LibC, EntryPoint = "sched_setscheduler", SetLastError = true)]
    public static partial int SetScheduler(int pid, int policy, int* parameters);

    /// <summary>sched_getscheduler(2); pid 0 is the calling thread.</summary>
    [LibraryImport(LibC, EntryPoint = "sched_getscheduler", SetLastError = true)]
    public static partial int GetScheduler(int pid);

    /// <summary>epoll_ctl with the event written in this architecture's layout.</summary>
    public static int Control(int epoll, int operation, int fd, uint events, ulong data)
    {
        byte* evt = stackalloc byte[16];
        Unsafe.WriteUnaligned(evt, events);
        Unsafe.WriteUnaligned(evt + (s_packedEvents ? 4 : 8), data);
        return EpollCtl(epoll, operation, fd, evt);
    }

    /// <summary>The events and data of entry <paramref name="index"/> of an epoll_wait result.</summary>
    public static void ReadEvent(byte* events, int index, out uint flags, out ulong data)
    {
        byte* evt = events + (index * EventSize);
        flags = Unsafe.ReadUnaligned<uint>(evt);
        data = Unsafe.ReadUnaligned<ulong>(evt + (s_packedEvents ? 4 : 8));
    }

    /// <summary>Writes <paramref name="endPoint"/> as a sockaddr_in or sockaddr_in6; returns its length.</summary>
    public static int WriteAddress(IPEndPoint endPoint, byte* address)
    {
        var span = new Span<byte>(address, SocketAddressSize);
        span.Clear();
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], (ushort)endPoint.Port);
        if (endPoint.AddressFamily == AddressFamily.InterNetwork)
        {
            Unsafe.WriteUnaligned(address, (ushort)AfInet);
            endPoint.Address.TryWriteBytes(span.Slice(4, 4), out _);
            return 16;
        }

        Unsafe.WriteUnaligned(address, (ushort)AfInet6);
        endPoint.Address.TryWriteBytes(span.Slice(8, 16), out _);
        Unsafe.WriteUnaligned(address + 24, (uint)endPoint.Address.ScopeId);
        return SocketAddressSize;
    }

    /// <summary>Reads a sockaddr_in or sockaddr_in6; null for any other family.</summary>
    public static IPEndPoint? ReadAddress(ReadOnlySpan<byte> address)
    {
        if (address.Length < 16)
        {
            return null;
        }

        ushort family = MemoryMarshal.Read<ushort>(address);
        int port = BinaryPrimitives.ReadUInt16BigEndian(address[2..]);
        if (family == AfInet)
        {
            return new IPEndPoint(new IPAddress(address.Slice(4, 4)), port);
        }

        return family == AfInet6 && address.Length >= SocketAddressSize
            ? new IPEndPoint(new IPAddress(address.Slice(8, 16), MemoryMarshal.Read<uint>(address[24..])), port)
            : null;
    }

    /// <summary>The local address of a socket, or null when it cannot be read.</summary>
    public static IPEndPoint? LocalAddress(int fd)
    {
        byte* address = stackalloc byte[SocketAddressSize];
        int length = SocketAddressSize;
        return GetSockName(fd, address, &length) == 0 ? ReadAddress(new ReadOnlySpan<byte>(address, length)) : null;
    }

    /// <summary>Sets an integer socket option; failures are ignored (the option is an optimisation or the socket is gone).</summary>
    public static void SetOption(int fd, int level, int name, int value) => _ = SetSockOpt(fd, level, name, &value, sizeof(int));

    /// <summary>The pending error of a socket (SO_ERROR), which reading clears.</summary>
    public static int PendingError(int fd)
    {
        int error = 0;
        int length = sizeof(int);
        return GetSockOpt(fd, SolSocket, SoError, &error, &length) == 0 ? error : Marshal.GetLastPInvokeError();
    }

    /// <summary>Closes a socket; with <paramref name="reset"/> a linger of zero makes the close send RST.</summary>
    public static void CloseSocket(int fd, bool reset)
    {
        if (fd < 0)
        {
            return;
        }

        if (reset)
        {
            int* linger = stackalloc int[2];
            linger[0] = 1;
            linger[1] = 0;
            _ = SetSockOpt(fd, SolSocket, SoLinger, linger, 2 * sizeof(int));
        }

        _ = Close(fd);
    }
}
