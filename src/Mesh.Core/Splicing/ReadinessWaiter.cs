using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading.Tasks.Sources;
using Mesh.Interop.Linux;

namespace Mesh.Splicing;

/// <summary>
/// The idle wait of one splice direction on a <see cref="SocketReadinessLoop"/>: what a zero-byte receive is on the socket
/// engine (it completes with 0 once the source has bytes, a FIN or an error to read), with the continuation run on the loop's
/// thread. Reused for every wait of the direction; waits do not overlap.
/// </summary>
/// <remarks>
/// The source is registered edge-triggered, so an edge is never repeated: one that comes while the direction is moving bytes
/// is kept (<c>Signalled</c>) and completes the next wait at once. A direction that reads until its source is empty, or stops
/// at a short read, therefore never misses bytes: either they came before that read and it saw them, or their edge came after.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed class ReadinessWaiter : IValueTaskSource<int>
{
    private const int Idle = 0;
    private const int Waiting = 1;
    private const int Signalled = 2;
    private const int Closed = 3;

    private readonly SocketReadinessLoop _loop;
    private ManualResetValueTaskSourceCore<int> _core; // continuations run inline: on the loop's thread
    private int _state;

    private ReadinessWaiter(SocketReadinessLoop loop)
    {
        _loop = loop;
    }

    /// <summary>The epoll data of the registration (slot and generation); 0 once unregistered.</summary>
    public ulong Key { get; set; }

    /// <summary>A waiter for <paramref name="socket"/> on <paramref name="loop"/>, or null when it cannot be registered.</summary>
    public static ReadinessWaiter? TryCreate(SocketReadinessLoop? loop, Socket socket)
    {
        if (loop is null)
        {
            return null;
        }

        var waiter = new ReadinessWaiter(loop);
        return loop.TryRegister(waiter, socket) ? waiter : null;
    }

    /// <summary>
    /// Completes with 0 at once when <paramref name="levelCheck"/> has something to read (for a reader that may leave bytes or a
    /// FIN unread, such as an SslStream, whose edge has been and gone), or else once the source becomes readable; fails once
    /// <see cref="Close"/> was called.
    /// </summary>
    public ValueTask<int> WaitAsync(Socket levelCheck) =>
        Volatile.Read(ref _state) != Closed && HasSomethingToRead(levelCheck) ? new ValueTask<int>(0) : WaitAsync();

    /// <summary>Completes with 0 once the source is readable (bytes, a FIN or an error); fails once <see cref="Close"/> was called.</summary>
    public ValueTask<int> WaitAsync()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Signalled)
            {
                if (Interlocked.CompareExchange(ref _state, Idle, Signalled) == Signalled)
                {
                    return new ValueTask<int>(0);
                }

                continue;
            }

            if (state == Closed)
            {
                return ValueTask.FromException<int>(Aborted());
            }

            // Reset before the state says Waiting: from then on the loop may complete it.
            _core.Reset();
            if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle)
            {
                return new ValueTask<int>(this, _core.Version);
            }
        }
    }

    /// <summary>Runs <paramref name="continuation"/> when the pending wait completes (the same as awaiting it, without a delegate per awaiter).</summary>
    public void OnReadable(Action<object?> continuation, object state) =>
        _core.OnCompleted(continuation, state, _core.Version, ValueTaskSourceOnCompletedFlags.None);

    /// <summary>The source became readable (the loop's thread): resumes a waiting direction here, or keeps the edge for its next wait.</summary>
    public void Signal()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Waiting)
            {
                if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
                {
                    _core.SetResult(0);
                    return;
                }

                continue;
            }

            if (state != Idle || Interlocked.CompareExchange(ref _state, Signalled, Idle) == Idle)
            {
                return;
            }
        }
    }

    /// <summary>
    /// The splice is ending: the slot is freed, a waiting direction fails (on the thread pool, not inside the caller, which may
    /// be the other direction) and later waits fail at once. Any thread, any number of times.
    /// </summary>
    public void Close()
    {
        _loop.Unregister(this);
        if (Interlocked.Exchange(ref _state, Closed) == Waiting)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static waiter => waiter._core.SetException(Aborted()), this, preferLocal: false);
        }
    }

    /// <summary>Whether a read would return now: bytes, a FIN or an error (poll(2), without waiting).</summary>
    private static unsafe bool HasSomethingToRead(Socket socket)
    {
        SafeSocketHandle handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);

            // poll, not a peeking recv: a recv that meets a reset takes the error with it (sock_error clears it), and the
            // read that follows then sees only the end of the stream, a truncation where the peer reset.
            PollFd poll = new() { Fd = (int)handle.DangerousGetHandle(), Events = LibC.PollIn };
            int ready;
            do
            {
                ready = LibC.Poll(&poll, 1, 0);
            }
            while (ready < 0 && Marshal.GetLastPInvokeError() == Errno.EIntr);

            // Readable, at its end, reset or failing: the read that follows says which. Nothing yet: wait on the loop.
            return ready != 0;
        }
        catch (ObjectDisposedException)
        {
            // Closed: the read that follows says so.
            return true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static SocketException Aborted() => new((int)SocketError.OperationAborted);

    int IValueTaskSource<int>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
