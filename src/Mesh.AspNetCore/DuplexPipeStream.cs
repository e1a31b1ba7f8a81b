using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Mesh.AspNetCore;

/// <summary>A stream over a connection's transport pipe, under the TLS stream (as Kestrel's own HTTPS middleware does).</summary>
/// <remarks>
/// The TLS stream reads a record at a time; when the transport already holds the bytes the read completes without an async state
/// machine, and a read that waits reuses a pooled one, so a keep-alive request costs no allocation here.
/// </remarks>
internal sealed class DuplexPipeStream(IDuplexPipe pipe) : Stream
{
    private readonly PipeReader _input = pipe.Input;
    private readonly PipeWriter _output = pipe.Output;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _input.TryRead(out ReadResult result) && TryConsume(result, buffer.Span, out int read) ? new(read) : ReadSlowAsync(buffer, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ValueTask<FlushResult> flush = _output.WriteAsync(buffer, cancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            ThrowIfCanceled(flush.Result);
            return default;
        }

        return AwaitFlushAsync(flush);
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        ValueTask<FlushResult> flush = _output.FlushAsync(cancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            ThrowIfCanceled(flush.Result);
            return Task.CompletedTask;
        }

        return AwaitFlushAsync(flush).AsTask();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private static void ThrowIfCanceled(FlushResult result)
    {
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("The transport's flush was canceled.");
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush) => ThrowIfCanceled(await flush.ConfigureAwait(false));

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (TryConsume(result, buffer.Span, out int read))
            {
                return read;
            }
        }
    }

    // Copies what fits and consumes only that. A zero-byte read (TLS waiting for data without a buffer) consumes nothing and
    // returns once bytes or the end are there; 0 with a non-empty destination is the transport's end.
    private bool TryConsume(in ReadResult result, Span<byte> destination, out int read)
    {
        ReadOnlySequence<byte> data = result.Buffer;
        if (result.IsCanceled)
        {
            _input.AdvanceTo(data.Start);
            throw new OperationCanceledException("The transport's read was canceled.");
        }

        if (data.IsEmpty || destination.IsEmpty)
        {
            _input.AdvanceTo(data.Start);
            read = 0;
            return result.IsCompleted || !data.IsEmpty;
        }

        read = (int)Math.Min(data.Length, destination.Length);
        data.Slice(0, read).CopyTo(destination);
        _input.AdvanceTo(data.GetPosition(read));
        return true;
    }
}
