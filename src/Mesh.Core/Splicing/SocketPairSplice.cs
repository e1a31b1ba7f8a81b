using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Mesh.Splicing;

/// <summary>
/// A splice of two sockets. Each direction copies through a pooled buffer or, on Linux, moves its bytes with
/// <c>splice(2)</c> through a kernel pipe (see the kernel path's own file, <c>SocketPairSplice.KernelPath.cs</c>).
/// </summary>
/// <remarks>
/// A direction is a pump: a burst moves what the source has (a pooled async method, so a burst that
/// has to wait for its destination allocates nothing), then a zero-byte receive waits for more. While it waits no method
/// is suspended: an idle direction holds the pending receive and one continuation, not a state machine, a buffer or a pipe.
/// </remarks>
internal sealed partial class SocketPairSplice : Splice
{
    private static readonly Action<object?> s_resumeForward = static s => ((SocketPairSplice)s!).Resume(forward: true);
    private static readonly Action<object?> s_resumeBackward = static s => ((SocketPairSplice)s!).Resume(forward: false);
    private readonly Socket _b;
    private Pump _forwardPump;
    private Pump _backwardPump;

    // The idle waits of A → B (on A) and B → A (on B) on an event loop (SpliceOptions.UseEventLoop); null: the socket engine's
    // zero-byte receive.
    private ReadinessWaiter? _aReadable;
    private ReadinessWaiter? _bReadable;

    public SocketPairSplice(TcpSplicer owner, Socket a, Socket b, ReadOnlyMemory<byte> prefix, SpliceOptions options)
        : base(owner, a, prefix, options)
    {
        _b = b;
    }

    protected override void PrepareSideB() => PrepareSocket(_b);

    protected override void StartDirections()
    {
        bool copy = !(Options.UseKernelPath && TcpSplicer.KernelPathAvailable);
        _forwardPump.Copy = copy;
        _backwardPump.Copy = copy;
        if (Options.UseEventLoop && OperatingSystem.IsLinux())
        {
            // Both sources on one loop: a request and its answer wake the same thread.
            SocketReadinessLoop? loop = SocketReadinessLoop.Next();
            _aReadable = ReadinessWaiter.TryCreate(loop, A);
            _bReadable = ReadinessWaiter.TryCreate(loop, _b);
        }

        Run(forward: true, Step.Begin);
        Run(forward: false, Step.Begin);
    }

    protected override void DisposeSideB() => _b.Dispose();

    protected override void AbortSideB() => Reset(_b);

    protected override void CloseWaits()
    {
        if (OperatingSystem.IsLinux())
        {
            _aReadable?.Close();
            _bReadable?.Close();
        }
    }

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
        Socket source = forward ? A : _b;
        Socket destination = forward ? _b : A;
        if (step == Step.Begin && (!forward || Prefix.IsEmpty))
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

                ReadinessWaiter? waiter = OperatingSystem.IsLinux() ? (forward ? _aReadable : _bReadable) : null;
                ValueTask<int> wait = waiter is not null && OperatingSystem.IsLinux() ? waiter.WaitAsync() : source.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                if (!wait.IsCompleted)
                {
                    ref Pump pump = ref PumpOf(forward);
                    pump.Wait = wait;
                    pump.InBurst = false;
                    if (waiter is not null && OperatingSystem.IsLinux())
                    {
                        // A static continuation with the splice as its state: an idle direction holds no delegate of its own.
                        waiter.OnReadable(forward ? s_resumeForward : s_resumeBackward, this);
                    }
                    else
                    {
                        wait.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(ContinuationOf(forward));
                    }

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
            MarkActive();
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
            await SendAllAsync(destination, Prefix).ConfigureAwait(false);
            Moved(Prefix.Length, forward);
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
        byte[] buffer = SpliceBuffers.Pool.Rent(BufferSize);
        bool sourceFailing = true;
        try
        {
            while (true)
            {
                sourceFailing = true;
                int read = ReceiveAvailable(source, buffer.AsSpan(0, BufferSize), out SocketError error);
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
                if (read < BufferSize && (forward ? _aReadable : _bReadable) is null)
                {
                    // A short read emptied the receive queue: the zero-byte receive that follows finds out whether more
                    // came meanwhile, which spares a receive that would only say EAGAIN. On an event loop the burst reads on
                    // to EAGAIN: a FIN queued behind the bytes would bring no new edge.
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
}
