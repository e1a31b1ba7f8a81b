using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Mesh.Interop.Linux;

namespace Mesh.Splicing;

/// <summary>The kernel path of a socket-to-socket splice (Linux): <c>splice(2)</c> source → kernel pipe → destination.</summary>
internal sealed partial class SocketPairSplice
{
    /// <summary>
    /// The kernel path, one burst: splice source → pipe → destination without blocking until the source runs dry, then give
    /// the pipe back. .NET cannot await writability, so when the destination is full the pipe's bytes are drained into a
    /// pooled buffer and sent with SendAsync, which waits. Returns false once the direction has ended.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    [SupportedOSPlatform("linux")]
    private async ValueTask<bool> KernelBurstAsync(Socket source, Socket destination, bool forward)
    {
        KernelPipe pipe = default;
        bool sourceFailing = true;
        try
        {
            while (true)
            {
                if (!pipe.IsValid && !KernelPipePool.TryRent(out pipe, out _))
                {
                    // Out of pipes or descriptors: this burst goes through user space.
                    return await CopyBurstAsync(source, destination, forward).ConfigureAwait(false);
                }

                sourceFailing = true;
                // Waiting on an event loop (edge-triggered) the burst reads until EAGAIN: a splice can stop short with bytes
                // still queued, and those would bring no new edge.
                bool untilEmpty = (forward ? _aReadable : _bReadable) is not null;
                KernelStep step = SpliceBurst(source.SafeHandle, destination.SafeHandle, pipe, untilEmpty, out long moved, out int pending, out int errno);
                if (moved > 0)
                {
                    UsedKernelPath = true;
                    Moved(moved, forward);
                }

                switch (step)
                {
                    case KernelStep.SourceDrained:
                        KernelPipePool.Return(pipe, empty: true);
                        pipe = default;
                        return true;
                    case KernelStep.SourceEnded:
                        KernelPipePool.Return(pipe, empty: true);
                        pipe = default;
                        HalfClose(destination, destinationIsA: !forward);
                        return false;
                    case KernelStep.DestinationFull:
                        sourceFailing = false;
                        await SendFromPipeAsync(pipe, pending, destination, forward).ConfigureAwait(false);
                        continue;
                    case KernelStep.SourceFailed:
                        KernelPipePool.Return(pipe, empty: true);
                        pipe = default;
                        Fail(forward, new SocketException((int)Errno.ToSocketError(errno)));
                        return false;
                    case KernelStep.DestinationFailed:
                        KernelPipePool.Return(pipe, empty: false);
                        pipe = default;
                        Fail(!forward, new SocketException((int)Errno.ToSocketError(errno)));
                        return false;
                    case KernelStep.Unsupported:
                        if (pending > 0)
                        {
                            sourceFailing = false;
                            await SendFromPipeAsync(pipe, pending, destination, forward).ConfigureAwait(false);
                        }

                        KernelPipePool.Return(pipe, empty: true);
                        pipe = default;
                        Owner.Telemetry.KernelPathUnavailable(errno);

                        // This direction copies from now on.
                        PumpOf(forward).Copy = true;
                        return await CopyBurstAsync(source, destination, forward).ConfigureAwait(false);
                    default:
                        // Aborted: the splice is ending and its reason is recorded.
                        KernelPipePool.Return(pipe, empty: false);
                        pipe = default;
                        return false;
                }
            }
        }
        catch (Exception e)
        {
            Fail(sourceFailing ? forward : !forward, e);
        }
        finally
        {
            KernelPipePool.Return(pipe, empty: false);
        }

        return false;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    [SupportedOSPlatform("linux")]
    private async ValueTask SendFromPipeAsync(KernelPipe pipe, int pending, Socket destination, bool forward)
    {
        byte[] buffer = SpliceBuffers.Pool.Rent(pending);
        try
        {
            DrainPipe(pipe, buffer.AsSpan(0, pending));
            await SendAllAsync(destination, buffer.AsMemory(0, pending)).ConfigureAwait(false);
            Moved(pending, forward);
        }
        finally
        {
            SpliceBuffers.Pool.Return(buffer);
        }
    }

    [SupportedOSPlatform("linux")]
    private static unsafe void DrainPipe(KernelPipe pipe, Span<byte> into)
    {
        fixed (byte* start = into)
        {
            int done = 0;
            while (done < into.Length)
            {
                nint read = LibC.Read(pipe.ReadFd, start + done, (nuint)(into.Length - done));
                if (read > 0)
                {
                    done += (int)read;
                    continue;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (read < 0 && errno == Errno.EIntr)
                {
                    continue;
                }

                // The bytes were counted into the pipe by the kernel; failing to read them back is a broken invariant.
                throw new IOException($"Reading a kernel pipe failed (errno {errno}).");
            }
        }
    }

    [SupportedOSPlatform("linux")]
    private static KernelStep SpliceBurst(SafeSocketHandle sourceHandle, SafeSocketHandle destinationHandle, KernelPipe pipe, bool untilEmpty, out long moved, out int pending, out int errno)
    {
        moved = 0;
        pending = 0;
        errno = 0;
        bool sourceAdded = false, destinationAdded = false;
        try
        {
            // Hold the descriptors only for the burst: a concurrent dispose (an abort) then closes them right after.
            sourceHandle.DangerousAddRef(ref sourceAdded);
            destinationHandle.DangerousAddRef(ref destinationAdded);
            int sourceFd = (int)sourceHandle.DangerousGetHandle();
            int destinationFd = (int)destinationHandle.DangerousGetHandle();
            const uint Flags = LibC.SpliceMove | LibC.SpliceNonBlock;
            while (true)
            {
                nint read = LibC.Splice(sourceFd, 0, pipe.WriteFd, 0, KernelPipePool.PipeSize, Flags);
                if (read == 0)
                {
                    return KernelStep.SourceEnded;
                }

                if (read < 0)
                {
                    errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EIntr)
                    {
                        continue;
                    }

                    return errno == Errno.EAgain ? KernelStep.SourceDrained
                        : Errno.MeansUnsupported(errno) && moved == 0 ? KernelStep.Unsupported
                        : KernelStep.SourceFailed;
                }

                pending = (int)read;
                while (pending > 0)
                {
                    nint written = LibC.Splice(pipe.ReadFd, 0, destinationFd, 0, (nuint)pending, Flags);
                    if (written > 0)
                    {
                        pending -= (int)written;
                        moved += written;
                        continue;
                    }

                    errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EIntr)
                    {
                        continue;
                    }

                    return errno == Errno.EAgain ? KernelStep.DestinationFull
                        : Errno.MeansUnsupported(errno) ? KernelStep.Unsupported
                        : KernelStep.DestinationFailed;
                }

                if (read < KernelPipePool.PipeSize && !untilEmpty)
                {
                    // A short splice may have emptied the receive queue: the zero-byte receive that follows checks for more.
                    return KernelStep.SourceDrained;
                }
            }
        }
        catch (ObjectDisposedException)
        {
            return KernelStep.Aborted;
        }
        finally
        {
            if (sourceAdded)
            {
                sourceHandle.DangerousRelease();
            }

            if (destinationAdded)
            {
                destinationHandle.DangerousRelease();
            }
        }
    }
}
