using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Mesh.Interop.Linux;

namespace Mesh.Splicing;

/// <summary>
/// Threads that wait in <c>epoll_wait</c> for idle splice sources to become readable and resume the waiting direction right
/// there (Linux): the wake-up that says bytes arrived is the thread that moves them, as on the gateway's loop. The runtime's
/// socket engine instead wakes its epoll thread, which hands every wake-up to a thread-pool worker: two threads woken per hop
/// instead of one, and per idle socket an async context, a cached receive operation and its event args held while nothing moves.
/// </summary>
/// <remarks>
/// One loop per processor, started on first use and kept for the life of the process; a splice puts both its sources on the
/// same loop, so a request and its answer wake one thread per hop. Sources are registered edge-triggered and once: a wait
/// costs no system call, and an edge that comes while the direction is busy is kept for its next wait
/// (<see cref="ReadinessWaiter"/>). A registration ends with the socket's close (the splice owns its sockets and closes them
/// when it ends); the slot's generation in the epoll data keeps a late event from waking the slot's next owner.
/// What runs here moves bytes and never blocks; a direction that has to wait for its destination awaits the socket engine
/// and comes back to its loop only at its next idle wait.
/// </remarks>
[SupportedOSPlatform("linux")]
internal sealed unsafe class SocketReadinessLoop
{
    private const int MaxEvents = 128;
    private const int MaxLoops = 16;
    private static readonly Lock s_createLock = new();
    private static SocketReadinessLoop[]? s_loops;
    private static bool s_unavailable;
    private static int s_next;

    private readonly int _epoll;
    private readonly Lock _lock = new();
    private readonly Stack<int> _freeSlots = new();
    private ReadinessWaiter?[] _slots = new ReadinessWaiter?[64];
    private int _slotCount;
    private uint _generation;

    private SocketReadinessLoop(int epoll, int index)
    {
        _epoll = epoll;
        new Thread(Run) { IsBackground = true, Name = $"Mesh splice wake-ups {index}" }.Start();
    }

    /// <summary>The loop for a new splice (round robin), or null when this system has none (then the socket engine waits).</summary>
    public static SocketReadinessLoop? Next()
    {
        SocketReadinessLoop[]? loops = Volatile.Read(ref s_loops) ?? Create();
        return loops is null ? null : loops[(int)((uint)Interlocked.Increment(ref s_next) % (uint)loops.Length)];
    }

    private static SocketReadinessLoop[]? Create()
    {
        lock (s_createLock)
        {
            if (s_loops is not null || s_unavailable || !EpollEvents.Available)
            {
                return s_loops;
            }

            var loops = new List<SocketReadinessLoop>();
            int wanted = Math.Clamp(Environment.ProcessorCount, 1, MaxLoops);
            for (int i = 0; i < wanted; i++)
            {
                int epoll = LibC.EpollCreate(LibC.EpollCloExec);
                if (epoll < 0)
                {
                    // Out of descriptors: the loops made so far serve; with none, splices wait on the socket engine.
                    break;
                }

                loops.Add(new SocketReadinessLoop(epoll, i));
            }

            s_unavailable = loops.Count == 0;
            Volatile.Write(ref s_loops, loops.Count == 0 ? null : [.. loops]);
            return s_loops;
        }
    }

    /// <summary>Adds <paramref name="socket"/> to the loop for <paramref name="waiter"/>; false when it cannot be (closed, out of memory).</summary>
    public bool TryRegister(ReadinessWaiter waiter, Socket socket)
    {
        ulong key;
        lock (_lock)
        {
            int slot = _freeSlots.Count > 0 ? _freeSlots.Pop() : _slotCount++;
            if (slot == _slots.Length)
            {
                var larger = new ReadinessWaiter?[_slots.Length * 2];
                _slots.CopyTo(larger, 0);
                Volatile.Write(ref _slots, larger);
            }

            _generation++;
            key = ((ulong)_generation << 32) | (uint)slot;
            waiter.Key = key;
            _slots[slot] = waiter;
        }

        SafeSocketHandle handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);

            // EPOLLRDHUP and the always-reported EPOLLHUP/EPOLLERR wake a waiting direction for a FIN or a reset too: its read says which.
            if (EpollEvents.Control(_epoll, LibC.EpollCtlAdd, (int)handle.DangerousGetHandle(), LibC.EpollIn | LibC.EpollRdHup | LibC.EpollEdge, key) == 0)
            {
                return true;
            }
        }
        catch (ObjectDisposedException)
        {
            // Closed already: the splice is ending.
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        Unregister(waiter);
        return false;
    }

    /// <summary>Frees the waiter's slot; the socket leaves epoll when it is closed.</summary>
    public void Unregister(ReadinessWaiter waiter)
    {
        lock (_lock)
        {
            ulong key = waiter.Key;
            int slot = (int)(uint)key;
            if (key != 0 && slot < _slots.Length && ReferenceEquals(_slots[slot], waiter))
            {
                _slots[slot] = null;
                _freeSlots.Push(slot);
            }

            waiter.Key = 0;
        }
    }

    private void Run()
    {
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EpollEvents.Size));
        while (true)
        {
            int count = LibC.EpollWait(_epoll, events, MaxEvents, -1);
            for (int i = 0; i < count; i++)
            {
                ulong key = EpollEvents.ReadData(events, i);
                ReadinessWaiter?[] slots = Volatile.Read(ref _slots);
                int slot = (int)(uint)key;
                if (slot < slots.Length && slots[slot] is { } waiter && waiter.Key == key)
                {
                    try
                    {
                        waiter.Signal();
                    }
                    catch (Exception)
                    {
                        // A direction records its own failures; one that escapes is a bug in that splice and must not stop
                        // the wake-ups of every other splice on this loop.
                    }
                }
            }
        }
    }
}
