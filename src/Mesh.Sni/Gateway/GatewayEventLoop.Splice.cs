using System.Buffers;
using System.Runtime.InteropServices;
using Mesh.Interop.Linux;
using Mesh.Sni.Interop.Linux;
using Mesh.Splicing;

namespace Mesh.Sni.Gateway;

// A connection's splice: each direction moves what its source has until the source runs dry or its destination is full, a
// FIN goes on as a half-close and a reset or failure as a reset (as TcpSplicer does for sockets).
internal sealed unsafe partial class GatewayEventLoop
{
    private void Pump(GatewayConnection connection)
    {
        if (!Move(connection, connection.Forward, connection.Downstream, connection.Upstream, forward: true)
            || !Move(connection, connection.Backward, connection.Upstream, connection.Downstream, forward: false))
        {
            return;
        }

        if (connection.Forward.Done && connection.Backward.Done)
        {
            Finish(connection);
        }
    }

    /// <summary>Moves one direction as far as it can go now; false when the connection ended (it was reset).</summary>
    private bool Move(GatewayConnection connection, GatewayConnection.SpliceDirection direction, int source, int destination, bool forward)
    {
        if (direction.Holding && !Flush(connection, direction, destination, forward))
        {
            return false;
        }

        while (!direction.Holding && direction.Readable && !direction.Ended)
        {
            if (!(direction.Kernel ? SpliceOnce(connection, direction, source, destination, forward) : CopyOnce(connection, direction, source, destination, forward)))
            {
                return false;
            }
        }

        if (!direction.Holding)
        {
            ReturnPipe(direction);
            if (direction.Ended && !direction.Forwarded)
            {
                direction.Forwarded = true;

                // Half-close: the other side may still send. Once both directions are over the close sends the FIN instead.
                GatewayConnection.SpliceDirection other = forward ? connection.Backward : connection.Forward;
                if (!other.Done)
                {
                    _ = LinuxSockets.Shutdown(destination, LinuxSockets.ShutWrite);
                    ScheduleSweep(IdleDeadline(connection));
                }
            }
        }

        return true;
    }

    /// <summary>One read into the loop's buffer and one write of it; what the destination does not take is kept for EPOLLOUT.</summary>
    private bool CopyOnce(GatewayConnection connection, GatewayConnection.SpliceDirection direction, int source, int destination, bool forward)
    {
        nint received;
        fixed (byte* buffer = _buffer)
        {
            received = LinuxSockets.Receive(source, buffer, (nuint)_chunk, 0);
        }

        if (received <= 0)
        {
            return SourceStopped(connection, direction, received, forward);
        }

        int count = (int)received;
        Moved(connection, direction, count, forward);
        if (count < _chunk && !direction.PeerEnded)
        {
            // recv(2) stops short only when the receive queue is empty: the next bytes come with the next edge, no need to
            // spend a call on EAGAIN. (A splice can stop short with bytes left, when the pipe runs out of slots, so the
            // kernel path reads until EAGAIN.)
            direction.Readable = false;
        }

        if (count == _chunk && _options.Splice.UseKernelPath)
        {
            // A full buffer: this direction carries a stream rather than a handshake, and splice(2) moves a stream for less.
            direction.Kernel = true;
        }

        nint sent;
        fixed (byte* buffer = _buffer)
        {
            sent = LinuxSockets.Send(destination, buffer, (nuint)count, LinuxSockets.MsgNoSignal);
        }

        if (sent == count)
        {
            return true;
        }

        if (sent < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EAgain)
            {
                Reset(connection, forward ? SpliceEnd.ResetByB : SpliceEnd.ResetByA);
                return false;
            }

            sent = 0;
        }

        // The destination is full: keep the rest and stop reading the source until it drains, so that TCP flow control
        // pushes back on the sender.
        int left = count - (int)sent;
        byte[] pending = ArrayPool<byte>.Shared.Rent(left);
        _buffer.AsSpan((int)sent, left).CopyTo(pending);
        direction.Pending = pending;
        direction.PendingOffset = 0;
        direction.PendingCount = left;
        WantWrite(connection, destinationIsUpstream: forward);
        return true;
    }

    /// <summary>One splice(2) from the source into the direction's pipe and one out of it.</summary>
    private bool SpliceOnce(GatewayConnection connection, GatewayConnection.SpliceDirection direction, int source, int destination, bool forward)
    {
        if (!direction.Pipe.IsValid)
        {
            if (!KernelPipePool.TryRent(out KernelPipe pipe, out int rentError))
            {
                if (rentError != 0)
                {
                    _splice.KernelPathUnavailable(rentError);
                }

                direction.Kernel = false;
                return true;
            }

            direction.Pipe = pipe;
        }

        nint received = LinuxSockets.Splice(source, 0, direction.Pipe.WriteFd, 0, (nuint)_chunk, LinuxSockets.SpliceMove | LinuxSockets.SpliceNonBlock);
        if (received <= 0)
        {
            if (received < 0 && Errno.MeansUnsupported(Marshal.GetLastPInvokeError()))
            {
                _splice.KernelPathUnavailable(Marshal.GetLastPInvokeError());
                direction.Kernel = false;
                return true;
            }

            return SourceStopped(connection, direction, received, forward);
        }

        direction.InPipe = (int)received;
        Moved(connection, direction, (int)received, forward);
        return Flush(connection, direction, destination, forward);
    }

    /// <summary>A read returned 0 (the source's FIN) or failed: EAGAIN waits for the next edge, anything else resets both sides.</summary>
    private bool SourceStopped(GatewayConnection connection, GatewayConnection.SpliceDirection direction, nint received, bool forward)
    {
        direction.Readable = false;
        if (received == 0)
        {
            direction.Ended = true;
            return true;
        }

        if (Marshal.GetLastPInvokeError() == Errno.EAgain)
        {
            return true;
        }

        Reset(connection, forward ? SpliceEnd.ResetByA : SpliceEnd.ResetByB);
        return false;
    }

    private void Moved(GatewayConnection connection, GatewayConnection.SpliceDirection direction, int count, bool forward)
    {
        connection.LastActivity = _now;
        direction.Bytes += count;
        _splice.Moved(count, forward);
    }

    /// <summary>Hands the destination what it has not taken yet; false when it failed (the connection was reset).</summary>
    private bool Flush(GatewayConnection connection, GatewayConnection.SpliceDirection direction, int destination, bool forward)
    {
        nint sent;
        if (direction.PendingCount > 0)
        {
            fixed (byte* pending = direction.Pending)
            {
                sent = LinuxSockets.Send(destination, pending + direction.PendingOffset, (nuint)direction.PendingCount, LinuxSockets.MsgNoSignal);
            }

            if (sent > 0)
            {
                direction.PendingOffset += (int)sent;
                direction.PendingCount -= (int)sent;
                if (direction.PendingCount == 0)
                {
                    ArrayPool<byte>.Shared.Return(direction.Pending!);
                    direction.Pending = null;
                }
            }
        }
        else
        {
            sent = LinuxSockets.Splice(direction.Pipe.ReadFd, 0, destination, 0, (nuint)direction.InPipe, LinuxSockets.SpliceMove | LinuxSockets.SpliceNonBlock);
            if (sent > 0)
            {
                direction.InPipe -= (int)sent;
            }
        }

        if (sent < 0 && Marshal.GetLastPInvokeError() != Errno.EAgain)
        {
            Reset(connection, forward ? SpliceEnd.ResetByB : SpliceEnd.ResetByA);
            return false;
        }

        if (direction.Holding)
        {
            WantWrite(connection, destinationIsUpstream: forward);
        }

        return true;
    }

    /// <summary>Adds EPOLLOUT to a socket's registration the first time a direction waits for it to drain (edge-triggered, so it costs no wake-ups until then).</summary>
    private void WantWrite(GatewayConnection connection, bool destinationIsUpstream)
    {
        if (destinationIsUpstream ? connection.UpstreamWantsWrite : connection.DownstreamWantsWrite)
        {
            return;
        }

        int fd = destinationIsUpstream ? connection.Upstream : connection.Downstream;
        ulong tag = ((ulong)connection.Slot << 1) | (destinationIsUpstream ? 1UL : 0UL);
        _ = LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlMod, fd, LinuxSockets.EpollIn | LinuxSockets.EpollOut | LinuxSockets.EpollRdHup | LinuxSockets.EpollEdge, tag);
        if (destinationIsUpstream)
        {
            connection.UpstreamWantsWrite = true;
        }
        else
        {
            connection.DownstreamWantsWrite = true;
        }
    }

    private static void ReturnPipe(GatewayConnection.SpliceDirection direction)
    {
        if (direction.Pipe.IsValid)
        {
            KernelPipePool.Return(direction.Pipe, empty: direction.InPipe == 0);
            direction.Pipe = default;
            direction.InPipe = 0;
        }
    }

    /// <summary>Both directions ended with a FIN and every byte was delivered: close both sockets.</summary>
    private void Finish(GatewayConnection connection)
    {
        LinuxSockets.CloseSocket(connection.Downstream, reset: false);
        LinuxSockets.CloseSocket(connection.Upstream, reset: false);
        Ended(connection, SpliceEnd.Completed);
    }

    /// <summary>Resets both sides: a peer reset or failed, the splice idled out, or the gateway is stopping.</summary>
    private void Reset(GatewayConnection connection, SpliceEnd end)
    {
        LinuxSockets.CloseSocket(connection.Downstream, reset: true);
        LinuxSockets.CloseSocket(connection.Upstream, reset: true);
        Ended(connection, end);
    }

    private void Ended(GatewayConnection connection, SpliceEnd end)
    {
        connection.DownstreamClosed();
        connection.Upstream = -1;
        foreach (GatewayConnection.SpliceDirection direction in (ReadOnlySpan<GatewayConnection.SpliceDirection>)[connection.Forward, connection.Backward])
        {
            if (direction.Pending is { } pending)
            {
                ArrayPool<byte>.Shared.Return(pending);
                direction.Pending = null;
                direction.PendingCount = 0;
            }

            ReturnPipe(direction);
        }

        _splice.Ended(new SpliceResult(connection.Forward.Bytes, connection.Backward.Bytes, end, null, connection.Forward.Kernel || connection.Backward.Kernel));

        Release(connection);
    }
}
