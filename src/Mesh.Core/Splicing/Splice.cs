using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Mesh.Interop.Linux;

namespace Mesh.Splicing;

/// <summary>
/// One splice of side A (a socket) with side B: two directions and the decision of how the whole ends. What is the same
/// whatever B is lives here (the end, the counters, the idle timer, the reset); each kind of side B is a type of its own:
/// <see cref="SocketPairSplice"/> (a socket, copied or spliced in the kernel), <see cref="StreamSplice"/> (a stream such as
/// TLS over a socket) and <see cref="PipeSplice"/> (an in-process duplex pipe).
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
internal abstract class Splice : TaskCompletionSource<SpliceResult>
{
    private readonly TimeProvider _time;
    private ITimer? _timer;
    private CancellationTokenRegistration _registration;
    private int _exitedDirections;
    private int _end;
    private int _finishedDirections;
    private long _lastActivity;
    private long _bytesAToB;
    private long _bytesBToA;
    private Exception? _error;

    protected Splice(TcpSplicer owner, Socket a, ReadOnlyMemory<byte> prefix, SpliceOptions options)
    {
        Owner = owner;
        A = a;
        Prefix = prefix;
        Options = options;
        _time = options.TimeProvider;
        BufferSize = options.MaxBufferedBytesPerDirection;
    }

    /// <summary>The splicer this splice logs and counts for.</summary>
    protected TcpSplicer Owner { get; }

    protected SpliceOptions Options { get; }

    /// <summary>Side A: always a socket.</summary>
    protected Socket A { get; }

    /// <summary>Bytes already read from A, sent to B before anything else.</summary>
    protected ReadOnlyMemory<byte> Prefix { get; }

    /// <summary>The most a copy loop holds for one direction.</summary>
    protected int BufferSize { get; }

    /// <summary>Set once bytes moved through a kernel pipe; reported in the result.</summary>
    protected bool UsedKernelPath { get; set; }

    /// <summary>Starts both directions; the task completes once both have ended.</summary>
    public Task<SpliceResult> Start(CancellationToken cancellationToken)
    {
        Owner.Telemetry.Started();
        _lastActivity = _time.GetTimestamp();
        PrepareSocket(A);
        PrepareSideB();
        ArmTimer();
        _registration = cancellationToken.UnsafeRegister(static s => ((Splice)s!).Abort(SpliceEnd.Cancelled, null), this);
        StartDirections();
        return Task;
    }

    /// <summary>Readies side B before the first byte moves (nothing to do unless B is a socket of its own).</summary>
    protected virtual void PrepareSideB()
    {
    }

    /// <summary>Starts A → B and B → A; each direction ends through <see cref="DirectionExited"/> or <see cref="RunDirectionsAsync"/>.</summary>
    protected abstract void StartDirections();

    /// <summary>Closes side B after both directions ended with a FIN (no reset).</summary>
    protected abstract void DisposeSideB();

    /// <summary>Resets side B, or wakes its users so that they fail, for an abort. Called at most once, from any thread.</summary>
    protected abstract void AbortSideB();

    /// <summary>
    /// Ends the idle waits on an event loop (<see cref="SpliceOptions.UseEventLoop"/>): closing a socket takes it out of epoll
    /// without waking anyone, so an abort wakes a waiting direction here, and the end of the splice frees the registrations.
    /// Any thread, any number of times.
    /// </summary>
    protected virtual void CloseWaits()
    {
    }

    protected async Task RunDirectionsAsync(Task forward, Task backward)
    {
        // Neither direction throws: each records its own end.
        await forward.ConfigureAwait(false);
        await backward.ConfigureAwait(false);
        Finish();
    }

    protected void DirectionExited()
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
        CloseWaits();
        if (Interlocked.CompareExchange(ref _end, (int)SpliceEnd.Completed, 0) == 0)
        {
            // Both directions ended with a FIN and both FINs were forwarded: a plain close is clean now.
            A.Dispose();
            DisposeSideB();
        }

        var end = (SpliceEnd)Volatile.Read(ref _end);
        var result = new SpliceResult(Volatile.Read(ref _bytesAToB), Volatile.Read(ref _bytesBToA), end, _error, UsedKernelPath);
        Owner.Telemetry.Ended(result);

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
        Reset(A);
        AbortSideB();
        CloseWaits();
    }

    protected static void PrepareSocket(Socket socket)
    {
        // Nagle plus delayed ACK costs request/response protocols ~40 ms a turn.
        socket.NoDelay = true;
        if (OperatingSystem.IsLinux())
        {
            // O_NONBLOCK on the descriptor, where splice(2) takes its blocking mode from, set directly: Socket.Blocking = false
            // would also create the runtime's async state for the socket, which an idle connection on an event loop would
            // hold for nothing (SpliceOptions.UseEventLoop). Reads go through ReceiveAvailable, which never blocks.
            SetNonBlocking(socket);
            return;
        }

        // Non-blocking receives let a direction drain what is there and give its buffer back when the source runs dry.
        socket.Blocking = false;
    }

    [SupportedOSPlatform("linux")]
    private static void SetNonBlocking(Socket socket)
    {
        SafeSocketHandle handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            int flags = LibC.Fcntl(fd, LibC.FGetFl, 0);
            if (flags < 0 || LibC.Fcntl(fd, LibC.FSetFl, flags | LibC.ONonBlock) < 0)
            {
                throw new SocketException((int)Errno.ToSocketError(Marshal.GetLastPInvokeError()));
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Reads what <paramref name="socket"/> has now without waiting: <see cref="SocketError.WouldBlock"/> when it has nothing
    /// (a 0 with <see cref="SocketError.Success"/> is its FIN). On Linux a recv(2) with MSG_DONTWAIT, whatever the socket's
    /// blocking mode; elsewhere the socket is non-blocking (<see cref="PrepareSocket"/>).
    /// </summary>
    protected static unsafe int ReceiveAvailable(Socket socket, Span<byte> buffer, out SocketError error)
    {
        if (!OperatingSystem.IsLinux())
        {
            return socket.Receive(buffer, SocketFlags.None, out error);
        }

        SafeSocketHandle handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            while (true)
            {
                nint read;
                fixed (byte* start = buffer)
                {
                    read = LibC.Recv(fd, start, (nuint)buffer.Length, LibC.MsgDontWait);
                }

                if (read >= 0)
                {
                    error = SocketError.Success;
                    return (int)read;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EIntr)
                {
                    error = errno == Errno.EAgain ? SocketError.WouldBlock : Errno.ToSocketError(errno);
                    return 0;
                }
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    protected static void Reset(Socket socket)
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

    protected bool Ended => Volatile.Read(ref _end) != 0;

    protected void Moved(long bytes, bool forward)
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
        Owner.Telemetry.Moved(bytes, forward);
    }

    /// <summary>Stamps activity that moved no byte yet (a source that woke up).</summary>
    protected void MarkActive() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    protected void DirectionFinished()
    {
        if (Interlocked.Increment(ref _finishedDirections) == 1 && Options.DrainTimeout is not null)
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
    protected void Fail(bool sideA, Exception error)
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
        Volatile.Read(ref _finishedDirections) > 0 && Options.DrainTimeout is { } drain ? drain : Options.IdleTimeout;

    private void ArmTimer()
    {
        if (Options.IdleTimeout == Timeout.InfiniteTimeSpan && (Options.DrainTimeout is null || Options.DrainTimeout == Timeout.InfiniteTimeSpan))
        {
            return;
        }

        _timer = _time.CreateTimer(static s => ((Splice)s!).OnTimer(), this, Options.IdleTimeout, Timeout.InfiniteTimeSpan);
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

    // ---- Shared by the copy loops. Helpers awaited inside a loop use pooled builders: a send that has to wait must not allocate.

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            int sent = await socket.SendAsync(bytes, SocketFlags.None).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    protected void HalfClose(Socket destination, bool destinationIsA)
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
}
