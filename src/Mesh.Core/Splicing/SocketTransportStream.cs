using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Mesh.Splicing;

/// <summary>
/// A stream over a connected socket, to put under the <see cref="System.Net.Security.SslStream"/> of a TLS side handed to
/// <see cref="TcpSplicer.SpliceAsync(Socket, Stream, SocketTransportStream?, ReadOnlyMemory{byte}, SpliceOptions?, CancellationToken)"/>.
/// It lets the splicer see what the TLS layer hides: whether the transport reached its FIN (so an end without
/// <c>close_notify</c> is told apart from one with it), and the socket to half-close or reset.
/// </summary>
public sealed class SocketTransportStream : Stream
{
    private volatile bool _reachedEnd;
    private bool _disposed;
    private object? _readable; // a ReadinessWaiter while a splice waits for this transport on an event loop (Linux)

    /// <summary>Wraps <paramref name="socket"/>; disposing the stream disposes the socket.</summary>
    public SocketTransportStream(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (socket.SocketType != SocketType.Stream)
        {
            throw new ArgumentException("The socket must be a stream socket.", nameof(socket));
        }

        Socket = socket;
    }

    /// <summary>The socket under the stream.</summary>
    public Socket Socket { get; }

    /// <summary>Whether a read returned the transport's end (a TCP FIN).</summary>
    public bool ReachedEnd => _reachedEnd;

    /// <inheritdoc/>
    public override bool CanRead => !_disposed;

    /// <inheritdoc/>
    public override bool CanWrite => !_disposed;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override int Read(Span<byte> buffer)
    {
        int read = Socket.Receive(buffer, SocketFlags.None);
        if (read == 0 && !buffer.IsEmpty)
        {
            _reachedEnd = true;
        }

        return read;
    }

    /// <inheritdoc/>
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // A zero-byte read waits for data without a buffer (SslStream passes it through when it holds no bytes).
        // Each TLS record is a read here: one that completes at once needs no state machine, one that waits a pooled one.
        // The TLS stream waits on its transport now, out of the TLS library; the bytes returned take it back in (a zero-byte
        // read returns none: the stream reads again before it decrypts anything).
        ReadGate?.ExitRead();
        if (buffer.IsEmpty && !cancellationToken.CanBeCanceled && OperatingSystem.IsLinux() && _readable is ReadinessWaiter waiter)
        {
            // A splice's idle wait, on its event loop. The stream reads records, not everything queued: check what is
            // there first, the edge of those bytes may have been and gone.
            return waiter.WaitAsync(Socket);
        }

        ValueTask<int> receive = Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        return receive.IsCompletedSuccessfully ? new(Received(receive.Result, buffer.IsEmpty)) : ReceiveSlowAsync(receive, buffer.IsEmpty);
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[Socket.Send(buffer, SocketFlags.None)..];
        }
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return default;
        }

        ValueTask<int> send = Socket.SendAsync(buffer, SocketFlags.None, cancellationToken);
        if (!send.IsCompletedSuccessfully)
        {
            return SendSlowAsync(send, buffer, cancellationToken);
        }

        int sent = send.Result;
        return sent == buffer.Length ? default : SendRestAsync(buffer[sent..], cancellationToken);
    }

    /// <inheritdoc/>
    public override void Flush()
    {
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    private int Received(int read, bool zeroByteRead)
    {
        if (read == 0 && !zeroByteRead)
        {
            _reachedEnd = true;
        }

        if (!zeroByteRead)
        {
            ReadGate?.EnterRead();
        }

        return read;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReceiveSlowAsync(ValueTask<int> receive, bool zeroByteRead) =>
        Received(await receive.ConfigureAwait(false), zeroByteRead);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendSlowAsync(ValueTask<int> send, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
        await SendRestAsync(buffer[await send.ConfigureAwait(false)..], cancellationToken).ConfigureAwait(false);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendRestAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[await Socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];
        }
    }

    /// <summary>Set by a splice whose TLS stream reads through this transport: when its reads are inside the TLS library.</summary>
    internal TlsShutdownGate? ReadGate { get; set; }

    /// <summary>Makes zero-byte reads wait on <paramref name="waiter"/> (a splice on an event loop); null leaves them on the socket engine.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    internal void WaitOn(ReadinessWaiter? waiter) => _readable = waiter;

    /// <summary>Ends the wait given to <see cref="WaitOn"/> (the splice is ending).</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    internal void CloseWait() => (_readable as ReadinessWaiter)?.Close();

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            Socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
