using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Mesh.Identity;

namespace Mesh.Tls.InProcess;

/// <summary>
/// An authenticated mesh connection: the mTLS stream, the peer's SPIFFE identity and, on a dialled connection, the upstream.
/// </summary>
/// <remarks>
/// In TLS 1.3 the client's handshake completes before the server has checked the client's certificate and intentions, so a
/// refusal arrives as a reset on the first read. A dialled stream turns that first-read failure into a
/// <see cref="MeshConnectionException"/> with <see cref="MeshConnectionError.RefusedByPeer"/> naming the upstream.
/// </remarks>
public sealed class MeshStream : Stream
{
    private readonly SslStream _tls;
    private readonly System.Net.Sockets.Socket? _socket;
    private bool _received;

    internal MeshStream(SslStream tls, System.Net.Sockets.Socket? socket, SpiffeId peer, string? upstream, EndPoint? local, EndPoint? remote)
    {
        _tls = tls;
        _socket = socket;
        Peer = peer;
        Upstream = upstream;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        ServiceIdentity.TryFromSpiffeId(peer, out ServiceIdentity service);
        PeerService = service;
    }

    /// <summary>The peer's SPIFFE ID, from its validated X.509-SVID.</summary>
    public SpiffeId Peer { get; }

    /// <summary>The peer's service and datacenter; the default value when the peer is not a service identity.</summary>
    public ServiceIdentity PeerService { get; }

    /// <summary>The upstream this connection was dialled to (<c>counting@dc2</c>); null for an accepted connection.</summary>
    public string? Upstream { get; }

    /// <summary>The local end of the TCP connection, when known.</summary>
    public EndPoint? LocalEndPoint { get; }

    /// <summary>The remote end of the TCP connection (a sidecar, an in-process service or a mesh gateway), when known.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The negotiated TLS protocol.</summary>
    public SslProtocols SslProtocol => _tls.SslProtocol;

    /// <inheritdoc />
    public override bool CanRead => _tls.CanRead;

    /// <inheritdoc />
    public override bool CanWrite => _tls.CanWrite;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc />
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        if (_received)
        {
            return _tls.Read(buffer);
        }

        try
        {
            int read = _tls.Read(buffer);
            _received = read > 0;
            return read;
        }
        catch (Exception ex) when (IsRefusal(ex))
        {
            throw Refused(ex);
        }
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _received ? _tls.ReadAsync(buffer, cancellationToken) : FirstReadAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_received)
        {
            _tls.Write(buffer);
            return;
        }

        // A refusal can also reach a caller that writes first: the reset then fails the write, not the read.
        try
        {
            _tls.Write(buffer);
        }
        catch (Exception ex) when (IsRefusal(ex))
        {
            throw Refused(ex);
        }
    }

    /// <inheritdoc />
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _received ? _tls.WriteAsync(buffer, cancellationToken) : FirstWritesAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override void Flush() => _tls.Flush();

    /// <inheritdoc />
    public override Task FlushAsync(CancellationToken cancellationToken) => _tls.FlushAsync(cancellationToken);

    /// <summary>Sends TLS close_notify, so the peer reads a clean end of stream.</summary>
    public Task ShutdownAsync() => _tls.ShutdownAsync();

    /// <summary>Aborts the connection with a TCP reset.</summary>
    public void Abort()
    {
        if (_socket is not null)
        {
            Mesh.Splicing.OutboundConnector.Close(_socket, reset: true);
        }

        _tls.Dispose();
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await _tls.DisposeAsync().ConfigureAwait(false);
        _socket?.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _tls.Dispose();
            _socket?.Dispose();
        }

        base.Dispose(disposing);
    }

    private async ValueTask<int> FirstReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            int read = await _tls.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _received = read > 0;
            return read;
        }
        catch (Exception ex) when (IsRefusal(ex))
        {
            throw Refused(ex);
        }
    }

    private async ValueTask FirstWritesAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await _tls.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRefusal(ex))
        {
            throw Refused(ex);
        }
    }

    private bool IsRefusal(Exception ex) => Upstream is not null && ex is IOException or AuthenticationException;

    private MeshConnectionException Refused(Exception ex) => new(
        MeshConnectionError.RefusedByPeer,
        Upstream,
        $"Upstream {Upstream} ({Peer}) reset the connection before sending anything: its intentions deny this service, or it refused this service's certificate. ({ex.Message})",
        ex)
    { Peer = Peer };
}
