using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Mesh.Interop.Linux;

/// <summary>
/// The libc calls of the kernel splice path: <c>splice(2)</c> through a pipe, and what a pipe needs. Blittable signatures: no
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

    [LibraryImport(Library, EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    [LibraryImport(Library, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);
}
