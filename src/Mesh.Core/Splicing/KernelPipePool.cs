using System.Diagnostics.CodeAnalysis;
using System.Runtime.Versioning;
using Mesh.Interop.Linux;

namespace Mesh.Splicing;

/// <summary>
/// Kernel pipes for the splice path. A pipe costs two descriptors, so a direction takes one only while bytes move and
/// gives it back when its source runs dry; a few empty pipes are kept to spare the pipe2/close calls of the next burst
/// (HAProxy keeps such a pool too). The number of pipes in use is capped: past the cap, or when the process is out of
/// descriptors, a direction copies that burst through a pooled buffer instead. One pool per process: <see cref="TcpSplicer"/> and
/// the mesh gateway's Linux event loop (Mesh.Sni) rent from it, so the cap holds for every splice engine of the process.
/// </summary>
public static unsafe class KernelPipePool
{
    /// <summary>Empty pipes kept for reuse.</summary>
    public const int MaxPooled = 64;

    /// <summary>Pipes lent out at once (each two descriptors).</summary>
    public const int MaxInUse = 1024;

    /// <summary>The capacity asked for each pipe (the kernel's default is 64 KiB).</summary>
    public const int PipeSize = 256 * 1024;

    private static readonly Lock s_lock = new();
    private static readonly KernelPipe[] s_pooled = new KernelPipe[MaxPooled];
    private static int s_pooledCount;
    private static int s_inUse;

    /// <summary>Pipes currently lent out.</summary>
    public static int InUse => Volatile.Read(ref s_inUse);

    /// <summary>Lends a pipe, or fails (errno 0: the in-use cap; otherwise the pipe2 error).</summary>
    [SupportedOSPlatform("linux")]
    public static bool TryRent(out KernelPipe pipe, out int errno)
    {
        errno = 0;
        lock (s_lock)
        {
            if (s_inUse >= MaxInUse)
            {
                pipe = default;
                return false;
            }

            s_inUse++;
            if (s_pooledCount > 0)
            {
                pipe = s_pooled[--s_pooledCount];
                s_pooled[s_pooledCount] = default;
                return true;
            }
        }

        int* fds = stackalloc int[2];
        if (LibC.Pipe2(fds, LibC.ONonBlock | LibC.OCloExec) != 0)
        {
            errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            lock (s_lock)
            {
                s_inUse--;
            }

            pipe = default;
            return false;
        }

        // A larger pipe moves more per splice call; the kernel may refuse (pipe-max-size, per-user pipe budget), which is fine.
        _ = LibC.Fcntl(fds[1], LibC.FSetPipeSize, PipeSize);
        pipe = new KernelPipe(fds[0], fds[1]);
        return true;
    }

    /// <summary>Takes back a lent pipe. <paramref name="empty"/> false closes it: bytes left in a pipe belong to no one.</summary>
    [SupportedOSPlatform("linux")]
    public static void Return(KernelPipe pipe, bool empty)
    {
        if (!pipe.IsValid)
        {
            return;
        }

        lock (s_lock)
        {
            s_inUse--;
            if (empty && s_pooledCount < MaxPooled)
            {
                s_pooled[s_pooledCount++] = pipe;
                return;
            }
        }

        CloseBoth(pipe);
    }

    /// <summary>Closes every pooled pipe (shutdown, and tests counting descriptors).</summary>
    public static void Clear()
    {
        if (!OperatingSystem.IsLinux())
        {
            // Pipes exist only on Linux: nothing was ever pooled.
            return;
        }

        while (true)
        {
            KernelPipe pipe;
            lock (s_lock)
            {
                if (s_pooledCount == 0)
                {
                    return;
                }

                pipe = s_pooled[--s_pooledCount];
                s_pooled[s_pooledCount] = default;
            }

            CloseBoth(pipe);
        }
    }

    [SuppressMessage("Style", "IDE0058", Justification = "close(2) errors leave nothing to do.")]
    [SupportedOSPlatform("linux")]
    private static void CloseBoth(KernelPipe pipe)
    {
        LibC.Close(pipe.ReadFd);
        LibC.Close(pipe.WriteFd);
    }
}
