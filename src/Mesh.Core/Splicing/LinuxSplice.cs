using System.Runtime.InteropServices;

namespace Mesh.Splicing;

/// <summary>The libc calls of the kernel path (Linux only). Blittable signatures: no marshalling, AOT-friendly.</summary>
internal static unsafe partial class LinuxSplice
{
    private const string LibC = "libc";

    // Linux, the same on x86-64 and arm64 (asm-generic).
    public const uint SpliceMove = 1;
    public const uint SpliceNonBlock = 2;
    public const int ONonBlock = 0x800;
    public const int OCloExec = 0x80000;
    public const int FGetFl = 3;
    public const int FSetFl = 4;
    public const int FSetPipeSize = 1031;

    public const int EIntr = 4;
    public const int EBadF = 9;
    public const int EAgain = 11;
    public const int ENFile = 23;
    public const int EMFile = 24;
    public const int EInval = 22;
    public const int EPipe = 32;
    public const int ENoSys = 38;
    public const int EOpNotSupp = 95;
    public const int EConnAborted = 103;
    public const int EConnReset = 104;
    public const int ENotConn = 107;
    public const int ETimedOut = 110;

    [LibraryImport(LibC, EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int fdIn, nint offIn, int fdOut, nint offOut, nuint length, uint flags);

    [LibraryImport(LibC, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport(LibC, EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(LibC, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>Errors that say splice(2) cannot be used on these descriptors, as opposed to a failing connection.</summary>
    public static bool MeansUnsupported(int errno) => errno is EInval or ENoSys or EOpNotSupp or EBadF;

    /// <summary>Errors a peer causes: a reset, an abort, a write after its close.</summary>
    public static bool MeansReset(int errno) => errno is EConnReset or EPipe or EConnAborted or ENotConn or ETimedOut;
}
