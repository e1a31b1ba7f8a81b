using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Mesh.Interop.Linux;

/// <summary>
/// struct epoll_event, read and written in place: packed on x86-64 (12 bytes, the data at offset 4), naturally aligned
/// elsewhere (16 bytes, the data at offset 8).
/// </summary>
[SupportedOSPlatform("linux")]
internal static unsafe class EpollEvents
{
    private static readonly bool s_packed = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Whether epoll's layout is known here: Linux on x86-64 or arm64.</summary>
    public static bool Available => OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>Bytes per epoll_event.</summary>
    public static int Size => s_packed ? 12 : 16;

    /// <summary>epoll_ctl with the event written in this architecture's layout.</summary>
    public static int Control(int epoll, int operation, int fd, uint events, ulong data)
    {
        byte* evt = stackalloc byte[16];
        Unsafe.WriteUnaligned(evt, events);
        Unsafe.WriteUnaligned(evt + (s_packed ? 4 : 8), data);
        return LibC.EpollCtl(epoll, operation, fd, evt);
    }

    /// <summary>The data of entry <paramref name="index"/> of an epoll_wait result.</summary>
    public static ulong ReadData(byte* events, int index) =>
        Unsafe.ReadUnaligned<ulong>(events + (index * Size) + (s_packed ? 4 : 8));
}
