using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Mesh.Interop.Linux;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Diagnostics;
using Mesh.Sni.Interop.Linux;
using Mesh.Splicing;
using Microsoft.Extensions.Logging;

namespace Mesh.Sni.Gateway;

// A connection's way to its splice: the ClientHello, the route, the endpoints in turn, the replay.
internal sealed unsafe partial class GatewayEventLoop
{
    private void OnDownstream(GatewayConnection connection, uint flags)
    {
        NoteReadable(connection.Forward, flags);
        switch (connection.Phase)
        {
            case GatewayPhase.ReadingHello:
                ReadHello(connection);
                break;
            case GatewayPhase.Splicing:
                Pump(connection);
                break;
            default:
                // Connecting: bytes after the hello (0-RTT data, or the end) wait in the socket until the upstream is there.
                break;
        }
    }

    private void OnUpstream(GatewayConnection connection, uint flags)
    {
        NoteReadable(connection.Backward, flags);
        if (connection.Phase == GatewayPhase.Connecting)
        {
            if ((flags & (LinuxSockets.EpollErr | LinuxSockets.EpollHup)) != 0 && LinuxSockets.PendingError(connection.Upstream) is int error and not 0)
            {
                EndpointFailed(connection, Marshal.GetPInvokeErrorMessage(error));
                TryNextEndpoint(connection);
            }
            else if ((flags & LinuxSockets.EpollOut) != 0)
            {
                Replay(connection);
            }

            return;
        }

        if (connection.Phase == GatewayPhase.Splicing)
        {
            Pump(connection);
        }
    }

    /// <summary>Records what an edge said about a socket as the source of <paramref name="direction"/>: bytes to read, or its peer's end.</summary>
    private static void NoteReadable(GatewayConnection.SpliceDirection direction, uint flags)
    {
        if ((flags & (LinuxSockets.EpollIn | LinuxSockets.EpollEnded)) != 0)
        {
            direction.Readable = true;
        }

        if ((flags & LinuxSockets.EpollEnded) != 0)
        {
            direction.PeerEnded = true;
        }
    }

    /// <summary>Receives until the ClientHello is complete, growing the pooled buffer as the record headers ask; then routes.</summary>
    private void ReadHello(GatewayConnection connection)
    {
        GatewayConnection.SpliceDirection forward = connection.Forward;
        while (forward.Readable)
        {
            byte[] buffer = connection.Hello ??= GatewayHelloBuffer.Rent();
            int filled = connection.HelloFilled;
            if (filled == buffer.Length)
            {
                bool grown = _router.TryGrowHello(ref buffer, connection.Id, connection.Remote);
                connection.Hello = buffer;
                if (!grown)
                {
                    CloseBeforeSplice(connection, reset: false);
                    return;
                }
            }

            int room = buffer.Length - filled;
            nint received;
            fixed (byte* start = buffer)
            {
                received = LinuxSockets.Receive(connection.Downstream, start + filled, (nuint)room, 0);
            }

            if (received < 0)
            {
                if (Marshal.GetLastPInvokeError() == Errno.EAgain)
                {
                    forward.Readable = false;
                    return;
                }

                CloseBeforeSplice(connection, reset: true);
                return;
            }

            if (received == 0)
            {
                _router.ClosedBeforeHello(connection.Id, connection.Remote, filled);
                CloseBeforeSplice(connection, reset: false);
                return;
            }

            connection.HelloFilled = filled += (int)received;
            if (received < room && !forward.PeerEnded)
            {
                // A short read took all there was: the next bytes come with the next edge.
                forward.Readable = false;
            }

            ClientHelloParseStatus status = _router.Inspect(buffer.AsSpan(0, filled), out GatewayRoute? route, out string? sni, out ClientHelloInvalidReason reason);
            switch (status)
            {
                case ClientHelloParseStatus.NeedMoreData:
                    continue;
                case ClientHelloParseStatus.Complete when route is not null:
                    if (GatewayActivity.Enabled)
                    {
                        // The peer's address is decoded from its sockaddr only for a span that is recorded.
                        _router.Chosen(connection.Id, connection.Remote, sni, route);
                    }

                    connection.Route = route;
                    connection.Sni = sni;
                    BeginConnect(connection);
                    return;
                default:
                    _router.RefuseHello(connection.Id, connection.Remote, status, reason, sni);
                    CloseBeforeSplice(connection, reset: false);
                    return;
            }
        }
    }

    private void BeginConnect(GatewayConnection connection)
    {
        connection.Listener.ReadingHello--;
        connection.Phase = GatewayPhase.Connecting;
        connection.Endpoints = _router.Endpoints(connection.Route!);
        TryNextEndpoint(connection);
    }

    /// <summary>Connects to the next endpoint not tried yet; when none is left the connection is closed.</summary>
    private void TryNextEndpoint(GatewayConnection connection)
    {
        if (connection.Upstream >= 0)
        {
            LinuxSockets.CloseSocket(connection.Upstream, reset: true);
            connection.Upstream = -1;
        }

        byte* address = stackalloc byte[LinuxSockets.SocketAddressSize];
        while (connection.Endpoints.TryNext(out IPEndPoint? endpoint))
        {
            connection.Endpoint = endpoint;
            int family = endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? LinuxSockets.AfInet6 : LinuxSockets.AfInet;
            int fd = LinuxSockets.Socket(family, LinuxSockets.SockStream | LinuxSockets.SockNonBlock | LinuxSockets.SockCloExec, 0);
            if (fd < 0)
            {
                EndpointFailed(connection, Marshal.GetLastPInvokeErrorMessage(), endpointAtFault: false);
                continue;
            }

            LinuxSockets.SetOption(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpNoDelay, 1);

            // On a connecting socket TCP_DEFER_ACCEPT holds back the handshake's last ACK until data goes out: the hello is
            // sent at once and carries it, so the endpoint's listener wakes once, with the connection and the hello together,
            // rather than once for each (which also spares this thread the preemption the first wake-up causes).
            LinuxSockets.SetOption(fd, LinuxSockets.IpProtoTcp, LinuxSockets.TcpDeferAccept, 1);
            if (_outboundSource is { } source && source.AddressFamily == endpoint.AddressFamily
                && LinuxSockets.Bind(fd, address, LinuxSockets.WriteAddress(source, address)) != 0)
            {
                EndpointFailed(connection, "binding " + source.Address + ": " + Marshal.GetLastPInvokeErrorMessage(), endpointAtFault: false);
                LinuxSockets.CloseSocket(fd, reset: false);
                continue;
            }

            if (LinuxSockets.Connect(fd, address, LinuxSockets.WriteAddress(endpoint, address)) != 0
                && Marshal.GetLastPInvokeError() is int errno and not Errno.EInProgress)
            {
                EndpointFailed(connection, Marshal.GetPInvokeErrorMessage(errno));
                LinuxSockets.CloseSocket(fd, reset: false);
                continue;
            }

            connection.Upstream = fd;
            connection.HelloSent = 0;
            connection.Deadline = _now + _connectTimeoutMs;
            ulong tag = ((ulong)connection.Slot << 1) | 1;

            // On loopback, and often on a LAN, the connection is up before connect returns: replay at once and spare the
            // wake-up for writability. While it is still connecting, send fails with EAGAIN and the loop waits for EPOLLOUT.
            if (TrySendHello(connection, out int error))
            {
                if (LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlAdd, fd, LinuxSockets.EpollIn | LinuxSockets.EpollRdHup | LinuxSockets.EpollEdge, tag) != 0)
                {
                    CloseBeforeSplice(connection, reset: true);
                    return;
                }

                Connected(connection);
                return;
            }

            if (error != 0)
            {
                EndpointFailed(connection, Marshal.GetPInvokeErrorMessage(error));
                LinuxSockets.CloseSocket(fd, reset: true);
                connection.Upstream = -1;
                continue;
            }

            connection.UpstreamWantsWrite = true;
            if (LinuxSockets.Control(_epoll, LinuxSockets.EpollCtlAdd, fd, LinuxSockets.EpollIn | LinuxSockets.EpollOut | LinuxSockets.EpollRdHup | LinuxSockets.EpollEdge, tag) != 0)
            {
                CloseBeforeSplice(connection, reset: true);
                return;
            }

            ScheduleSweep(connection.Deadline);
            return;
        }

        _router.NoEndpoint(connection.Id, connection.Remote, connection.Sni!, connection.Route!);
        CloseBeforeSplice(connection, reset: false);
    }

    /// <summary>The upstream became writable while connecting: connected (or failed), so replay the rest of the hello.</summary>
    private void Replay(GatewayConnection connection)
    {
        if (TrySendHello(connection, out int error))
        {
            Connected(connection);
        }
        else if (error != 0)
        {
            EndpointFailed(connection, Marshal.GetPInvokeErrorMessage(error));
            TryNextEndpoint(connection);
        }
    }

    /// <summary>
    /// Sends what is left of the bytes read so far (the ClientHello and anything after it); true once all are sent, false with
    /// error 0 when the socket cannot take more yet (still connecting, or full).
    /// </summary>
    private static bool TrySendHello(GatewayConnection connection, out int error)
    {
        error = 0;
        byte[] hello = connection.Hello!;
        while (connection.HelloSent < connection.HelloFilled)
        {
            nint sent;
            fixed (byte* start = hello)
            {
                sent = LinuxSockets.Send(connection.Upstream, start + connection.HelloSent, (nuint)(connection.HelloFilled - connection.HelloSent), LinuxSockets.MsgNoSignal);
            }

            if (sent < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                error = errno == Errno.EAgain ? 0 : errno;
                return false;
            }

            connection.HelloSent += (int)sent;
        }

        return true;
    }

    private void Connected(GatewayConnection connection)
    {
        _router.EndpointConnected(connection.Endpoint!);
        connection.Phase = GatewayPhase.Splicing;
        connection.LastActivity = _now;
        IPEndPoint? inboundLocal = null, outboundLocal = null;
        EndPoint? remote = null;
        if (_router.LogsRouted)
        {
            // The local addresses cost a getsockname each: read only for a log line that is written.
            inboundLocal = LinuxSockets.LocalAddress(connection.Downstream);
            outboundLocal = LinuxSockets.LocalAddress(connection.Upstream);
            remote = connection.Remote;
        }

        _router.Routed(connection.Id, connection.Sni!, connection.Route!, remote, inboundLocal, outboundLocal, connection.Endpoint);

        // A long-lived spliced connection must not hold the hello's buffer.
        GatewayHelloBuffer.Return(connection.Hello!);
        connection.Hello = null;
        _splice.Started();
        ScheduleSweep(IdleDeadline(connection));
        Pump(connection);
    }

    /// <summary>Logs a failed connect and closes its socket; a failure of the endpoint (not of this host) counts towards its ejection.</summary>
    private void EndpointFailed(GatewayConnection connection, string error, bool endpointAtFault = true)
    {
        _router.EndpointFailed(connection.Id, connection.Endpoint!, error, endpointAtFault);
        if (connection.Upstream >= 0)
        {
            LinuxSockets.CloseSocket(connection.Upstream, reset: true);
            connection.Upstream = -1;
        }
    }

    /// <summary>Closes a connection that never reached its splice: a FIN for a clean refusal, a reset for a failure.</summary>
    private void CloseBeforeSplice(GatewayConnection connection, bool reset)
    {
        if (!reset && connection.Downstream >= 0)
        {
            _ = LinuxSockets.Shutdown(connection.Downstream, LinuxSockets.ShutWrite);
        }

        LinuxSockets.CloseSocket(connection.Downstream, reset);
        connection.DownstreamClosed();
        LinuxSockets.CloseSocket(connection.Upstream, reset: true);
        connection.Upstream = -1;
        Release(connection);
    }
}
