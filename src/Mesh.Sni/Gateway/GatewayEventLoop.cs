using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Mesh.Diagnostics;
using Mesh.Interop.Linux;
using Mesh.Sni.Interop.Linux;
using Mesh.Splicing;
using Microsoft.Extensions.Logging;

namespace Mesh.Sni.Gateway;

/// <summary>
/// The gateway's connections on Linux, run the way an nginx worker runs them: one thread waits in <c>epoll_wait</c> on every
/// listener and connection, and each readiness does its work in place (accept, read the ClientHello, connect, replay, move
/// bytes) with plain non-blocking system calls.
/// </summary>
/// <remarks>
/// Why not <see cref="Socket"/>: a gateway connection is a dozen short steps, and on the socket engine each one costs what the
/// work does not need — a non-blocking switch per socket (<c>fcntl</c> twice), <c>poll</c>, <c>getsockopt</c>,
/// <c>getsockname</c> and <c>getpeername</c> around every connect, a timer and a linked cancellation source per timeout
/// (benchmarks/README.md, "Where a gateway connection's CPU goes"). Here a connection costs accept4, one epoll registration
/// per socket, the reads and writes its bytes need, and the closes; timeouts are deadlines the loop checks when the nearest
/// one is due. Handshake-sized transfers are copied through
/// one buffer (for a few kilobytes a copy costs less than splice(2) through a pipe); a direction whose read fills the whole
/// buffer is carrying a stream and moves on through a kernel pipe from then on.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe partial class GatewayEventLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const ulong WakeTag = 1UL << 63;
    private const ulong ListenerTag = 1UL << 62;

    private readonly MeshGatewayOptions _options;
    private readonly GatewayListener[] _listeners;
    private readonly int[] _listenerFds;
    private readonly GatewayRouter _router;
    private readonly GatewayLimits _limits;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger _logger;
    private readonly SpliceTelemetry _splice;
    private readonly int _epoll;
    private readonly int _wake;
    private readonly byte[] _buffer;
    private readonly int _chunk;
    private readonly long _helloTimeoutMs;
    private readonly long _connectTimeoutMs;
    private readonly long _idleTimeoutMs;
    private readonly long _drainTimeoutMs;
    private readonly IPEndPoint? _outboundSource;
    private readonly List<int> _released = [];
    private readonly Stack<int> _freeSlots = new();
    private readonly TaskCompletionSource _acceptStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private GatewayConnection?[] _slots = new GatewayConnection?[64];
    private int _slotCount;
    private Thread? _thread;
    private volatile bool _stopRequested;
    private volatile bool _abortRequested;
    private bool _accepting = true;
    private int _active;
    private long _now;
    private long _nextSweep = long.MaxValue;
    private bool _disposed;

    /// <summary>A loop over <paramref name="listeners"/> (bound and listening; their sockets stay the caller's to close).</summary>
    /// <exception cref="SocketException">The loop's epoll instance or wake-up eventfd cannot be set up.</exception>
    public GatewayEventLoop(
        MeshGatewayOptions options, GatewayListener[] listeners, GatewayRouter router, GatewayLimits limits, GatewayMetrics metrics,
        ILogger logger, SpliceTelemetry splice)
    {
        _options = options;
        _listeners = listeners;
        _listenerFds = Array.ConvertAll(listeners, listener => (int)listener.Socket.Handle);
        _router = router;
        _limits = limits;
        _metrics = metrics;
        _logger = logger;
        _splice = splice;
        _chunk = Math.Min(64 * 1024, options.Splice.MaxBufferedBytesPerDirection);
        _buffer = GC.AllocateUninitializedArray<byte>(_chunk, pinned: true);
        _helloTimeoutMs = Milliseconds(options.ClientHelloTimeout);
        _connectTimeoutMs = Milliseconds(options.ConnectTimeout);
        _idleTimeoutMs = Milliseconds(options.Splice.IdleTimeout);
        _drainTimeoutMs = Milliseconds(options.Splice.DrainTimeout ?? options.Splice.IdleTimeout);
        _outboundSource = options.OutboundAddress is { } source ? new IPEndPoint(source, 0) : null;
        _epoll = LinuxSockets.EpollCreate(LinuxSockets.SockCloExec);
        if (_epoll < 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError(), "epoll_create1 failed: " + Marshal.GetLastPInvokeErrorMessage());
        }

        _wake = LinuxSockets.EventFd(0, LinuxSockets.SockNonBlock | LinuxSockets.SockCloExec);
        if (_wake < 0 || LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlAdd, _wake, LinuxSockets.EpollIn, WakeTag) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            _ = LinuxSockets.Close(_epoll);
            if (_wake >= 0)
            {
                _ = LinuxSockets.Close(_wake);
            }

            throw new SocketException(errno, "The gateway's wake-up eventfd could not be set up: " + Marshal.GetPInvokeErrorMessage(errno));
        }

        try
        {
            foreach (GatewayListener listener in listeners)
            {
                AddListener(listener);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Connections open now (any thread).</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Completes once no listener accepts any more and no connection is left.</summary>
    public Task Drained => _drained.Task;

    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "Mesh gateway " + _options.Datacenter };
        _thread.Start();
    }

    /// <summary>Stops accepting; completes when the listeners are out of the loop (their sockets may then be closed).</summary>
    public Task StopAcceptingAsync()
    {
        _stopRequested = true;
        Wake();
        return _thread is null ? Task.CompletedTask : _acceptStopped.Task;
    }

    /// <summary>Resets every connection left and ends the loop's thread.</summary>
    public Task AbortAsync()
    {
        _stopRequested = true;
        _abortRequested = true;
        Wake();
        return _thread is null ? Task.CompletedTask : _exited.Task;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _ = LinuxSockets.Close(_wake);
        _ = LinuxSockets.Close(_epoll);
    }

    /// <summary>Adds a bound, listening socket to the loop. TCP_NODELAY set on it is inherited by every accepted socket.</summary>
    private void AddListener(GatewayListener listener)
    {
        listener.Socket.NoDelay = true;
        listener.Socket.Blocking = false;
        if (LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlAdd, Fd(listener), LinuxSockets.EpollIn, ListenerTag | (uint)listener.Index) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new SocketException(errno, "The listener could not be added to epoll: " + Marshal.GetPInvokeErrorMessage(errno));
        }
    }

    /// <summary>A listener's descriptor, read once: the loop never touches a listener's socket after it closes.</summary>
    private int Fd(GatewayListener listener) => _listenerFds[listener.Index];

    private static long Milliseconds(TimeSpan value) =>
        value == Timeout.InfiniteTimeSpan ? long.MaxValue : Math.Max(1, (long)Math.Ceiling(value.TotalMilliseconds));

    private void Wake()
    {
        ulong one = 1;
        _ = LinuxSockets.Write(_wake, &one, sizeof(ulong));
    }

    private void Run()
    {
        if (_options.BatchScheduling)
        {
            UseBatchScheduling();
        }

        int eventSize = LinuxSockets.EventSize;
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * eventSize));
        try
        {
            while (!_abortRequested)
            {
                int count = LinuxSockets.EpollWait(_epoll, events, MaxEvents, NextTimeout());
                _now = Environment.TickCount64;
                if (count < 0)
                {
                    // EINTR: a signal arrived (a debugger, the runtime's own); anything else cannot happen on a valid epoll fd.
                    continue;
                }

                for (int i = 0; i < count; i++)
                {
                    LinuxSockets.ReadEvent(events, i, out uint flags, out ulong data);
                    Dispatch(flags, data);
                }

                // Slots freed in this batch are reused only now: a later event of the same batch may still name one.
                foreach (int slot in _released)
                {
                    _freeSlots.Push(slot);
                }

                _released.Clear();
                if (_now >= _nextSweep)
                {
                    Sweep();
                }
            }

            AbortAll();
        }
        catch (Exception ex)
        {
            // A bug, not a peer's doing: say so loudly and reset what is left rather than leave connections hanging.
            GatewayLog.LoopFailed(_logger, _options.Datacenter, ex);
            AbortAll();
        }
        finally
        {
            NativeMemory.Free(events);
            _acceptStopped.TrySetResult();
            _drained.TrySetResult();
            _exited.TrySetResult();
        }
    }

    private int NextTimeout()
    {
        if (_nextSweep == long.MaxValue)
        {
            return -1;
        }

        long wait = _nextSweep - Environment.TickCount64;
        return wait <= 0 ? 0 : (int)Math.Min(wait, int.MaxValue);
    }

    private void Dispatch(uint flags, ulong data)
    {
        if ((data & WakeTag) != 0)
        {
            OnWake();
            return;
        }

        if ((data & ListenerTag) != 0)
        {
            if (_accepting)
            {
                Accept(_listeners[(int)(data & ~ListenerTag)]);
            }

            return;
        }

        GatewayConnection? connection = _slots[(int)(data >> 1)];
        if (connection is null)
        {
            return;
        }

        if ((data & 1) == 0)
        {
            OnDownstream(connection, flags);
        }
        else
        {
            OnUpstream(connection, flags);
        }
    }

    /// <summary>
    /// Puts this thread under SCHED_BATCH: woken by traffic it no longer preempts the task on its CPU, so by the time it runs
    /// more has arrived (the peer it woke has answered, the client's next segment is in) and one pass handles it all. With
    /// wake-up preemption the loop is woken, preempted by the peer it just sent to, and woken again for the answer. A thread
    /// that inherited another policy (a process started under a real-time or idle policy) keeps it: that was someone's choice.
    /// </summary>
    private void UseBatchScheduling()
    {
        if (LinuxSockets.GetScheduler(0) != LinuxSockets.SchedOther)
        {
            return;
        }

        int parameters = 0; // struct sched_param { int sched_priority; }, 0 for the non-real-time policies
        if (LinuxSockets.SetScheduler(0, LinuxSockets.SchedBatch, &parameters) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            GatewayLog.BatchSchedulingRefused(_logger, _options.Datacenter, errno);
        }
    }

    private void OnWake()
    {
        ulong value;
        _ = LinuxSockets.Read(_wake, (byte*)&value, sizeof(ulong));
        if (_stopRequested && _accepting)
        {
            _accepting = false;
            foreach (GatewayListener listener in _listeners)
            {
                _ = LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlDel, Fd(listener), 0, 0);
            }

            _acceptStopped.TrySetResult();
            if (_active == 0)
            {
                _drained.TrySetResult();
            }
        }
    }

    private void Accept(GatewayListener listener)
    {
        byte* address = stackalloc byte[LinuxSockets.SocketAddressSize];
        int length = LinuxSockets.SocketAddressSize;
        int fd = LinuxSockets.Accept(Fd(listener), address, &length, LinuxSockets.SockNonBlock | LinuxSockets.SockCloExec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            bool outOfDescriptors = errno is Errno.EMFile or Errno.ENFile;
            if (outOfDescriptors || errno is Errno.ENoBufs or Errno.ENoMem)
            {
                // Out of descriptors or memory: the listener is level-triggered and would report the same connection again
                // at once, so take it out of the loop for the back-off every listener of the mesh takes.
                _ = LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlDel, Fd(listener), 0, 0);
                int backoffMs = (int)listener.Backoff.TotalMilliseconds;
                listener.PausedUntil = _now + backoffMs;
                listener.Backoff = GatewayAcceptBackoff.Next(listener.Backoff);
                ScheduleSweep(listener.PausedUntil);
                SocketError error = outOfDescriptors ? SocketError.TooManyOpenSockets : SocketError.NoBufferSpaceAvailable;
                GatewayLog.AcceptBackoff(_logger, error, listener.LocalEndPoint.ToString(), backoffMs);
            }

            return;
        }

        listener.Backoff = GatewayAcceptBackoff.Initial;
        var remote = new ReadOnlySpan<byte>(address, Math.Min(length, LinuxSockets.SocketAddressSize));
        if (_limits.Exceeded(listener.Connections, listener.ReadingHello) is { } limit)
        {
            _limits.Refused(LinuxSockets.ReadAddress(remote), listener, limit);
            LinuxSockets.CloseSocket(fd, reset: true);
            return;
        }

        int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slotCount++;
        if (slot == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        var connection = new GatewayConnection(ConnectionIds.Next(), slot, listener, fd)
        {
            Deadline = _now + _helloTimeoutMs,
            RemoteAddressLength = remote.Length,
        };
        remote.CopyTo(connection.RemoteAddress);
        _slots[slot] = connection;
        listener.Connections++;
        listener.ReadingHello++;
        Volatile.Write(ref _active, _active + 1);
        _metrics.ActiveChanged(1);
        ScheduleSweep(connection.Deadline);
        if (LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlAdd, fd, LinuxSockets.EpollIn | LinuxSockets.EpollRdHup | LinuxSockets.EpollEdge, (ulong)slot << 1) != 0)
        {
            CloseBeforeSplice(connection, reset: true);
        }
    }

    private void ScheduleSweep(long deadline)
    {
        if (deadline < _nextSweep)
        {
            _nextSweep = deadline;
        }
    }

    /// <summary>Ends what is due (ClientHello and connect timeouts, idle splices), resumes paused listeners, and finds the next deadline.</summary>
    private void Sweep()
    {
        long next = long.MaxValue;
        for (int slot = 0; slot < _slotCount; slot++)
        {
            GatewayConnection? connection = _slots[slot];
            if (connection is null)
            {
                continue;
            }

            long deadline = connection.Phase switch
            {
                GatewayPhase.Splicing => IdleDeadline(connection),
                _ => connection.Deadline,
            };
            if (deadline > _now)
            {
                next = Math.Min(next, deadline);
                continue;
            }

            switch (connection.Phase)
            {
                case GatewayPhase.ReadingHello:
                    _router.HelloTimedOut(connection.Id, connection.Remote, connection.HelloFilled);
                    CloseBeforeSplice(connection, reset: false);
                    break;
                case GatewayPhase.Connecting:
                    EndpointFailed(connection, $"Connecting to {connection.Endpoint} took longer than {_options.ConnectTimeout.TotalSeconds:0.#} s.");
                    TryNextEndpoint(connection);
                    if (_slots[slot] == connection && connection.Phase == GatewayPhase.Connecting)
                    {
                        next = Math.Min(next, connection.Deadline);
                    }

                    break;
                default:
                    Reset(connection, SpliceEnd.IdleTimeout);
                    break;
            }
        }

        foreach (GatewayListener listener in _listeners)
        {
            if (listener.PausedUntil == 0)
            {
                continue;
            }

            if (listener.PausedUntil <= _now && _accepting)
            {
                listener.PausedUntil = 0;
                _ = LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlAdd, Fd(listener), LinuxSockets.EpollIn, ListenerTag | (uint)listener.Index);
            }
            else if (_accepting)
            {
                next = Math.Min(next, listener.PausedUntil);
            }
        }

        _nextSweep = next;
    }

    private long IdleDeadline(GatewayConnection connection)
    {
        long idle = connection.Forward.Done || connection.Backward.Done ? _drainTimeoutMs : _idleTimeoutMs;
        return idle == long.MaxValue ? long.MaxValue : connection.LastActivity + idle;
    }

    private void AbortAll()
    {
        for (int slot = 0; slot < _slotCount; slot++)
        {
            if (_slots[slot] is { } connection)
            {
                if (connection.Phase == GatewayPhase.Splicing)
                {
                    Reset(connection, SpliceEnd.Cancelled);
                }
                else
                {
                    CloseBeforeSplice(connection, reset: true);
                }
            }
        }
    }

    /// <summary>Takes a connection out of the table and the counts once both its sockets are closed.</summary>
    private void Release(GatewayConnection connection)
    {
        if (connection.Hello is { } hello)
        {
            GatewayHelloBuffer.Return(hello);
            connection.Hello = null;
        }

        if (connection.Phase == GatewayPhase.ReadingHello)
        {
            connection.Listener.ReadingHello--;
        }

        connection.Listener.Connections--;
        _slots[connection.Slot] = null;
        _released.Add(connection.Slot);
        Volatile.Write(ref _active, _active - 1);
        _metrics.ActiveChanged(-1);
        if (!_accepting && _active == 0)
        {
            _drained.TrySetResult();
        }
    }
}
