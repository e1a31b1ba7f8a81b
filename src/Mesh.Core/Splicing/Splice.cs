using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Mesh.Interop.Linux;
using Microsoft.Extensions.Logging;

namespace Mesh.Splicing;

/// <summary>
/// One splice of side A (a socket) with side B (a socket, or a stream over one): two directions, each a copy loop or a
/// kernel splice loop, and the decision of how the whole ends.
/// </summary>
/// <remarks>
/// Rules a change must keep:
/// <list type="bullet">
/// <item>A direction that reaches its source's FIN half-closes its destination (<c>Shutdown(Send)</c>, after a TLS
/// <c>close_notify</c>) and stops; the other direction keeps going. Nothing cancels a direction because the other ended.</item>
/// <item>The first failure wins (YARP's two-way copy): it records how the splice ended and resets both sides with
/// <c>LingerState(true, 0)</c>, so that no peer takes a failure for a clean end. The other direction's pending operation
/// fails and that direction exits quietly.</item>
/// <item>Sockets are disposed without a reset only when both directions ended with a FIN: then no operation is pending and
/// no unread byte remains, the two things that make Linux send a reset on close.</item>
/// <item>An idle direction holds no buffer, no kernel pipe and no suspended method: it waits with a zero-byte receive and a
/// continuation, and rents only once data is there.</item>
/// </list>
/// </remarks>
internal sealed class Splice : TaskCompletionSource<SpliceResult>
{
    private readonly TcpSplicer _owner;
    private readonly SpliceOptions _options;
    private readonly Socket _a;
    private readonly Socket? _b;
    private readonly Stream? _bStream;
    private readonly SocketTransportStream? _bTransport;
    private readonly IDuplexPipe? _bPipe;
    private readonly ReadOnlyMemory<byte> _prefix;
    private readonly TimeProvider _time;
    private readonly int _bufferSize;
    private ITimer? _timer;
    private CancellationTokenRegistration _registration;
    private Pump _forwardPump;
    private Pump _backwardPump;
    private int _exitedDirections;
    private int _end;
    private int _finishedDirections;
    private long _lastActivity;
    private long _bytesAToB;
    private long _bytesBToA;
    private bool _usedKernelPath;
    private Exception? _error;

    public Splice(TcpSplicer owner, Socket a, Socket? b, Stream? bStream, SocketTransportStream? bTransport, ReadOnlyMemory<byte> prefix, SpliceOptions options, IDuplexPipe? bPipe = null)
    {
        _bPipe = bPipe;
        _owner = owner;
        _a = a;
        _b = b;
        _bStream = bStream;
        _bTransport = bTransport;
        _prefix = prefix;
        _options = options;
        _time = options.TimeProvider;
        _bufferSize = options.MaxBufferedBytesPerDirection;
    }

    /// <summary>Starts both directions; the task completes once both have ended.</summary>
    public Task<SpliceResult> Start(CancellationToken cancellationToken)
    {
        _owner.Metrics.Started();
        _lastActivity = _time.GetTimestamp();
        PrepareSocket(_a);
        if (_b is not null)
        {
            PrepareSocket(_b);
        }

        ArmTimer();
        _registration = cancellationToken.UnsafeRegister(static s => ((Splice)s!).Abort(SpliceEnd.Cancelled, null), this);
        if (_b is not null)
        {
            bool copy = !(_options.UseKernelPath && TcpSplicer.KernelPathAvailable);
            _forwardPump.Copy = copy;
            _backwardPump.Copy = copy;
            Run(forward: true, Step.Begin);
            Run(forward: false, Step.Begin);
        }
        else if (_bPipe is not null)
        {
            _ = RunDirectionsAsync(CopySocketToPipeAsync(_bPipe.Output), CopyPipeToSocketAsync(_bPipe.Input));
        }
        else
        {
            _ = RunDirectionsAsync(CopySocketToStreamAsync(), CopyStreamToSocketAsync());
        }

        return Task;
    }

    private async Task RunDirectionsAsync(Task forward, Task backward)
    {
        // Neither direction throws: each records its own end.
        await forward.ConfigureAwait(false);
        await backward.ConfigureAwait(false);
        Finish();
    }

    private void DirectionExited()
    {
        if (Interlocked.Increment(ref _exitedDirections) == 2)
        {
            Finish();
        }
    }

    private void Finish()
    {
        // On the callback's own thread this does not wait for it; elsewhere it waits for an Abort that is running to return.
        _registration.Dispose();
        _timer?.Dispose();
        if (Interlocked.CompareExchange(ref _end, (int)SpliceEnd.Completed, 0) == 0)
        {
            // Both directions ended with a FIN and both FINs were forwarded: a plain close is clean now.
            _a.Dispose();
            _b?.Dispose();
            _bStream?.Dispose();
            _bTransport?.Dispose();
        }

        var end = (SpliceEnd)Volatile.Read(ref _end);
        _owner.Metrics.Ended(end);
        var result = new SpliceResult(Volatile.Read(ref _bytesAToB), Volatile.Read(ref _bytesBToA), end, _error, _usedKernelPath);
        if (end == SpliceEnd.Completed)
        {
            SpliceLog.Completed(_owner.Logger, end, result.BytesAToB, result.BytesBToA, result.UsedKernelPath);
        }
        else
        {
            SpliceLog.Failed(_owner.Logger, end, result.BytesAToB, result.BytesBToA, _error);
        }

        TrySetResult(result);
    }

    /// <summary>Ends the splice with a reset of both sides, unless it has ended already. Safe from any thread, any number of times.</summary>
    public void Abort(SpliceEnd end, Exception? error)
    {
        if (Interlocked.CompareExchange(ref _end, (int)end, 0) != 0)
        {
            return;
        }

        _error = error;
        Reset(_a);
        if (_b is not null)
        {
            Reset(_b);
        }

        if (_bTransport is not null)
        {
            Reset(_bTransport.Socket);
        }

        if (_bPipe is not null)
        {
            // Pipes are not thread-safe: wake their users, which complete them with an error (Kestrel's abort).
            _bPipe.Input.CancelPendingRead();
            _bPipe.Output.CancelPendingFlush();
        }

        if (_bStream is not null)
        {
            try
            {
                _bStream.Dispose();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
            {
                // The stream was failing already; the reset above is what its peer sees.
            }
        }
    }

    private static void PrepareSocket(Socket socket)
    {
        // Nagle plus delayed ACK costs request/response protocols ~40 ms a turn.
        socket.NoDelay = true;

        // Non-blocking receives let a direction drain what is there and give its buffer back when the source runs dry. On Unix
        // this also sets O_NONBLOCK on the descriptor, which is where splice(2) takes its blocking mode from.
        socket.Blocking = false;
    }

    private static void Reset(Socket socket)
    {
        try
        {
            // RST instead of FIN: the peer must not take a failure for a clean end.
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed or reset.
        }

        socket.Dispose();
    }

    private bool Ended => Volatile.Read(ref _end) != 0;

    private void Moved(long bytes, bool forward)
    {
        if (forward)
        {
            Interlocked.Add(ref _bytesAToB, bytes);
        }
        else
        {
            Interlocked.Add(ref _bytesBToA, bytes);
        }

        Volatile.Write(ref _lastActivity, _time.GetTimestamp());
        _owner.Metrics.Moved(bytes, forward);
    }

    private void DirectionFinished()
    {
        if (Interlocked.Increment(ref _finishedDirections) == 1 && _options.DrainTimeout is not null)
        {
            // A half-closed connection may be held to a different timeout; re-evaluate now.
            OnTimer();
        }
    }

    /// <summary>
    /// Ends the splice for an exception met on one side's transport: a reset or an I/O failure of that side's connection ends
    /// as a reset by it, anything else (a disposed socket, a refused handshake, a bug) as an error. Every pump and burst catches
    /// into this one place.
    /// </summary>
    private void Fail(bool sideA, Exception error)
    {
        if (Ended)
        {
            // The splice is being torn down and this is the echo of that.
            return;
        }

        SocketError code = error switch
        {
            SocketException s => s.SocketErrorCode,
            IOException { InnerException: SocketException s } => s.SocketErrorCode,
            _ => SocketError.SocketError,
        };

        SpliceEnd end = code is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown
            or SocketError.NotConnected or SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable
            || error is IOException
            ? (sideA ? SpliceEnd.ResetByA : SpliceEnd.ResetByB)
            : SpliceEnd.Error;
        Abort(end, error);
    }

    // ---- Idle timeout: one timer per splice, re-armed lazily so that reads never touch it.

    private TimeSpan CurrentTimeout =>
        Volatile.Read(ref _finishedDirections) > 0 && _options.DrainTimeout is { } drain ? drain : _options.IdleTimeout;

    private void ArmTimer()
    {
        if (_options.IdleTimeout == Timeout.InfiniteTimeSpan && (_options.DrainTimeout is null || _options.DrainTimeout == Timeout.InfiniteTimeSpan))
        {
            return;
        }

        _timer = _time.CreateTimer(static s => ((Splice)s!).OnTimer(), this, _options.IdleTimeout, Timeout.InfiniteTimeSpan);
    }

    private void OnTimer()
    {
        ITimer? timer = _timer;
        TimeSpan timeout = CurrentTimeout;
        if (timer is null || Ended || timeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        TimeSpan idle = _time.GetElapsedTime(Volatile.Read(ref _lastActivity));
        if (idle >= timeout)
        {
            Abort(SpliceEnd.IdleTimeout, null);
            return;
        }

        try
        {
            _ = timer.Change(timeout - idle, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The splice ended meanwhile.
        }
    }

    // ---- Copy loops. Helpers awaited inside a loop use pooled builders: a send that has to wait must not allocate.

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int sent = await socket.SendAsync(bytes, SocketFlags.None).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    private void HalfClose(Socket destination, bool destinationIsA)
    {
        try
        {
            destination.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Fail(destinationIsA, e);
            return;
        }

        DirectionFinished();
    }

    // ---- Socket to socket. A direction is a pump: a burst moves what the source has (a pooled async method, so a burst that
    // has to wait for its destination allocates nothing), then a zero-byte receive waits for more. While it waits no method
    // is suspended: an idle direction holds the pending receive and one continuation, not a state machine, a buffer or a pipe.

    private enum Step
    {
        Begin,
        Burst,
        Wait,
    }

    /// <summary>What one socket-to-socket direction holds between two callbacks.</summary>
    private struct Pump
    {
        public ValueTask<int> Wait;
        public ValueTask<bool> Burst;
        public Action? Continuation;
        public bool InBurst;
        public bool Copy;
    }

    private ref Pump PumpOf(bool forward) => ref forward ? ref _forwardPump : ref _backwardPump;

    private Action ContinuationOf(bool forward)
    {
        // One delegate per direction, made once: only the direction's own pump touches it.
        ref Pump pump = ref PumpOf(forward);
        return pump.Continuation ??= forward ? () => Resume(forward: true) : () => Resume(forward: false);
    }

    /// <summary>Runs a direction from <paramref name="step"/> until it has to wait (a continuation is registered) or ends.</summary>
    private void Run(bool forward, Step step)
    {
        Socket source = forward ? _a : _b!;
        Socket destination = forward ? _b! : _a;
        if (step == Step.Begin && (!forward || _prefix.IsEmpty))
        {
            // Nothing to send first: wait for the source.
            step = Step.Wait;
        }

        try
        {
            while (true)
            {
                if (step != Step.Wait)
                {
                    ValueTask<bool> burst = step == Step.Begin ? BeginAsync(destination, forward)
                        : PumpOf(forward).Copy || !OperatingSystem.IsLinux() ? CopyBurstAsync(source, destination, forward)
                        : KernelBurstAsync(source, destination, forward);
                    if (!burst.IsCompleted)
                    {
                        ref Pump pump = ref PumpOf(forward);
                        pump.Burst = burst;
                        pump.InBurst = true;
                        burst.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(ContinuationOf(forward));
                        return;
                    }

                    if (!burst.Result)
                    {
                        break;
                    }
                }

                ValueTask<int> wait = source.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                if (!wait.IsCompleted)
                {
                    ref Pump pump = ref PumpOf(forward);
                    pump.Wait = wait;
                    pump.InBurst = false;
                    wait.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(ContinuationOf(forward));
                    return;
                }

                if (!Readable(wait, forward))
                {
                    break;
                }

                step = Step.Burst;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The zero-byte receive could not even start: the source is gone.
            Fail(forward, e);
        }
        catch (Exception e)
        {
            Abort(SpliceEnd.Error, e);
        }

        DirectionExited();
    }

    /// <summary>The continuation of a direction's pending burst or zero-byte receive.</summary>
    private void Resume(bool forward)
    {
        ref Pump pump = ref PumpOf(forward);
        Step next;
        if (pump.InBurst)
        {
            ValueTask<bool> burst = pump.Burst;
            pump.Burst = default;
            bool more;
            try
            {
                more = burst.Result;
            }
            catch (Exception e)
            {
                Abort(SpliceEnd.Error, e);
                more = false;
            }

            if (!more)
            {
                DirectionExited();
                return;
            }

            next = Step.Wait;
        }
        else
        {
            ValueTask<int> wait = pump.Wait;
            pump.Wait = default;
            if (!Readable(wait, forward))
            {
                DirectionExited();
                return;
            }

            next = Step.Burst;
        }

        Run(forward, next);
    }

    /// <summary>Takes the result of a zero-byte receive (which frees the socket's receive for the next one); false when it failed.</summary>
    private bool Readable(ValueTask<int> wait, bool forward)
    {
        try
        {
            _ = wait.Result;

            // The source woke: that is activity, stamped before any byte is forwarded, so a peer that already has the bytes
            // never meets an idle timer still counting from before them.
            Volatile.Write(ref _lastActivity, _time.GetTimestamp());
            return true;
        }
        catch (Exception e)
        {
            Fail(forward, e);
        }

        return false;
    }

    /// <summary>The first step of A → B: the prefix.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> BeginAsync(Socket destination, bool forward)
    {
        try
        {
            await SendAllAsync(destination, _prefix).ConfigureAwait(false);
            Moved(_prefix.Length, forward);
            return true;
        }
        catch (Exception e)
        {
            Fail(!forward, e);
        }

        return false;
    }

    /// <summary>
    /// Kestrel's receive loop, one burst of it: rent a buffer, drain the source without blocking, give the buffer back.
    /// Returns false once the direction has ended (a FIN forwarded, or a failure recorded).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> CopyBurstAsync(Socket source, Socket destination, bool forward)
    {
        byte[] buffer = SpliceBuffers.Pool.Rent(_bufferSize);
        bool sourceFailing = true;
        try
        {
            while (true)
            {
                sourceFailing = true;
                int read = source.Receive(buffer.AsSpan(0, _bufferSize), SocketFlags.None, out SocketError error);
                if (error == SocketError.WouldBlock)
                {
                    return true;
                }

                if (error != SocketError.Success)
                {
                    Fail(forward, new SocketException((int)error));
                    return false;
                }

                if (read == 0)
                {
                    HalfClose(destination, destinationIsA: !forward);
                    return false;
                }

                sourceFailing = false;

                // The send loop is inline, not a helper: it is the steady state under backpressure.
                ReadOnlyMemory<byte> rest = buffer.AsMemory(0, read);
                while (!rest.IsEmpty)
                {
                    rest = rest[await destination.SendAsync(rest, SocketFlags.None).ConfigureAwait(false)..];
                }

                Moved(read, forward);
                if (read < _bufferSize)
                {
                    // A short read emptied the receive queue: the zero-byte receive that follows finds out whether more
                    // came meanwhile, which spares a receive that would only say EAGAIN.
                    return true;
                }
            }
        }
        catch (Exception e)
        {
            Fail(sourceFailing ? forward : !forward, e);
        }
        finally
        {
            SpliceBuffers.Pool.Return(buffer);
        }

        return false;
    }

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
                KernelStep step = SpliceBurst(source.SafeHandle, destination.SafeHandle, pipe, out long moved, out int pending, out int errno);
                if (moved > 0)
                {
                    _usedKernelPath = true;
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
                        TcpSplicer.ReportKernelPathUnavailable(_owner.Logger, errno);

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
    private static KernelStep SpliceBurst(SafeSocketHandle sourceHandle, SafeSocketHandle destinationHandle, KernelPipe pipe, out long moved, out int pending, out int errno)
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

                if (read < KernelPipePool.PipeSize)
                {
                    // A short splice emptied the receive queue (as in the copy loop, the zero-byte receive checks for more).
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

    // ---- Stream side (TLS-terminating hops): the copy loop, with a TLS half-close.

    private async Task CopySocketToStreamAsync()
    {
        Stream b = _bStream!;
        byte[]? buffer = null;
        bool sourceFailing = false;
        try
        {
            if (!_prefix.IsEmpty)
            {
                await b.WriteAsync(_prefix).ConfigureAwait(false);
                Moved(_prefix.Length, forward: true);
            }

            while (true)
            {
                sourceFailing = true;
                _ = await _a.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                buffer = SpliceBuffers.Pool.Rent(_bufferSize);
                while (true)
                {
                    sourceFailing = true;
                    int read = _a.Receive(buffer.AsSpan(0, _bufferSize), SocketFlags.None, out SocketError error);
                    if (error == SocketError.WouldBlock)
                    {
                        break;
                    }

                    if (error != SocketError.Success)
                    {
                        Fail(sideA: true, new SocketException((int)error));
                        return;
                    }

                    sourceFailing = false;
                    if (read == 0)
                    {
                        await HalfCloseStreamAsync(b).ConfigureAwait(false);
                        return;
                    }

                    await b.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                    Moved(read, forward: true);
                }

                sourceFailing = false;
                await b.FlushAsync().ConfigureAwait(false);
                SpliceBuffers.Pool.Return(buffer);
                buffer = null;
            }
        }
        catch (Exception e)
        {
            Fail(sideA: sourceFailing, e);
        }
        finally
        {
            if (buffer is not null)
            {
                SpliceBuffers.Pool.Return(buffer);
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask HalfCloseStreamAsync(Stream b)
    {
        await b.FlushAsync().ConfigureAwait(false);

        // TLS 1.3 half-close (RFC 8446 §6.1): close_notify closes our write side only, then the TCP FIN. Over TLS 1.2 the
        // peer answers close_notify by closing too (RFC 5246 §7.2.1): there is no half-close to keep there.
        if (b is SslStream tls)
        {
            await tls.ShutdownAsync().ConfigureAwait(false);
        }

        if (_bTransport is not null)
        {
            HalfClose(_bTransport.Socket, destinationIsA: false);
        }
        else
        {
            DirectionFinished();
        }
    }

    private async Task CopyStreamToSocketAsync()
    {
        Stream b = _bStream!;
        byte[]? buffer = null;
        bool sourceFailing = false;
        try
        {
            while (true)
            {
                sourceFailing = true;

                // SslStream (since .NET 6) passes a zero-byte read through when it holds no decrypted bytes.
                _ = await b.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                buffer = SpliceBuffers.Pool.Rent(_bufferSize);
                int read = await b.ReadAsync(buffer.AsMemory(0, _bufferSize)).ConfigureAwait(false);
                if (read == 0)
                {
                    if (b is SslStream && _bTransport is { ReachedEnd: true } && _options.TruncatedTlsEnd == TruncatedTlsEndPolicy.Reset)
                    {
                        // SslStream returned 0 because the transport did, not because of a close_notify: a truncation.
                        Abort(SpliceEnd.TruncatedByB, new IOException("Side B's TLS stream ended without close_notify."));
                        return;
                    }

                    HalfClose(_a, destinationIsA: true);
                    return;
                }

                sourceFailing = false;
                ReadOnlyMemory<byte> rest = buffer.AsMemory(0, read);
                while (!rest.IsEmpty)
                {
                    rest = rest[await _a.SendAsync(rest, SocketFlags.None).ConfigureAwait(false)..];
                }

                Moved(read, forward: false);
                SpliceBuffers.Pool.Return(buffer);
                buffer = null;
            }
        }
        catch (Exception e)
        {
            Fail(sideA: !sourceFailing, e);
        }
        finally
        {
            if (buffer is not null)
            {
                SpliceBuffers.Pool.Return(buffer);
            }
        }
    }

    // ---- Pipe side (an in-process transport, e.g. a Kestrel connection): the pipe's own thresholds bound what waits for B.

    private static IOException AbortedError() => new("The splice was aborted.");

    private async Task CopySocketToPipeAsync(PipeWriter output)
    {
        bool sourceFailing = false;
        bool completed = false;
        try
        {
            if (!_prefix.IsEmpty)
            {
                sourceFailing = false;
                FlushResult first = await output.WriteAsync(_prefix).ConfigureAwait(false);
                Moved(_prefix.Length, forward: true);
                if (first.IsCanceled || first.IsCompleted)
                {
                    PipeReaderGone(first);
                    return;
                }
            }

            while (true)
            {
                sourceFailing = true;
                _ = await _a.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                long burst = 0;
                bool ended = false;
                while (burst < _bufferSize)
                {
                    Memory<byte> memory = output.GetMemory();
                    int read = _a.Receive(memory.Span, SocketFlags.None, out SocketError error);
                    if (error == SocketError.WouldBlock)
                    {
                        break;
                    }

                    if (error != SocketError.Success)
                    {
                        Fail(sideA: true, new SocketException((int)error));
                        return;
                    }

                    if (read == 0)
                    {
                        ended = true;
                        break;
                    }

                    output.Advance(read);
                    burst += read;
                    if (read < memory.Length)
                    {
                        break;
                    }
                }

                sourceFailing = false;
                if (burst > 0)
                {
                    // Waits while B's reader is above the pipe's pause threshold: backpressure reaches A through TCP.
                    FlushResult flushed = await output.FlushAsync().ConfigureAwait(false);
                    Moved(burst, forward: true);
                    if (flushed.IsCanceled || flushed.IsCompleted)
                    {
                        PipeReaderGone(flushed);
                        return;
                    }
                }

                if (ended)
                {
                    completed = true;
                    await output.CompleteAsync().ConfigureAwait(false);
                    DirectionFinished();
                    return;
                }
            }
        }
        catch (Exception e)
        {
            Fail(sideA: sourceFailing, e);
        }
        finally
        {
            if (!completed)
            {
                await output.CompleteAsync(Ended ? AbortedError() : null).ConfigureAwait(false);
            }
        }
    }

    private void PipeReaderGone(FlushResult result)
    {
        if (!result.IsCanceled)
        {
            // B stopped reading while A still sends: those bytes can no longer be delivered.
            Fail(sideA: false, new IOException("Side B stopped reading."));
        }
    }

    private async Task CopyPipeToSocketAsync(PipeReader input)
    {
        bool sourceFailing = false;
        bool completed = false;
        try
        {
            while (true)
            {
                sourceFailing = true;
                ReadResult result = await input.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    return;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                sourceFailing = false;
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    ReadOnlyMemory<byte> rest = segment;
                    while (!rest.IsEmpty)
                    {
                        rest = rest[await _a.SendAsync(rest, SocketFlags.None).ConfigureAwait(false)..];
                    }
                }

                if (!buffer.IsEmpty)
                {
                    Moved(buffer.Length, forward: false);
                }

                input.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    completed = true;
                    await input.CompleteAsync().ConfigureAwait(false);
                    HalfClose(_a, destinationIsA: true);
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            Fail(sideA: !sourceFailing, e);
        }
        catch (Exception e)
        {
            // The writer of B's input completed with an error of its own: B failed.
            Fail(sideA: false, new IOException("Side B failed.", e));
        }
        finally
        {
            if (!completed)
            {
                await input.CompleteAsync(Ended ? AbortedError() : null).ConfigureAwait(false);
            }
        }
    }
}
