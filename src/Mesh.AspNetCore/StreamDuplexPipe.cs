using System.Buffers;
using System.IO.Pipelines;

namespace Mesh.AspNetCore;

/// <summary>The decrypted side of a mesh connection as the transport Kestrel's HTTP layer reads and writes.</summary>
/// <remarks>
/// Kestrel flushes an HTTP/1.1 chunked response twice (headers with the first chunk, then the last chunk), and HTTP/2 flushes
/// frame by frame. Written straight to the TLS stream, each flush would be a TLS record of its own: one more encryption here and
/// one more decryption and read at the peer. Output is therefore queued in a pipe and sent by a loop that runs from the
/// thread-pool queue of the thread that flushed, once that thread's current work is done: the flushes of one response
/// become one record, as Kestrel's socket transport turns them into one send. A flush still reaches the peer without waiting for
/// more data.
/// </remarks>
internal sealed class StreamDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    // RFC 8446 §5.1: a record carries at most 2^14 bytes of plaintext; gathering more buys nothing.
    internal const int MaxRecordPlaintext = 16 * 1024;

    // Up to this much queued output the writer is not paused (Kestrel's socket transport default is 1 MiB; a TLS stream sends
    // in records of 16 KiB, so a few records in flight keep it busy).
    private const long PauseWriterThreshold = 64 * 1024;

    private readonly Stream _stream;
    private readonly Pipe _output;
    private readonly Task _sending;

    public StreamDuplexPipe(Stream stream)
    {
        _stream = stream;
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        _output = new Pipe(new PipeOptions(
            readerScheduler: LocalQueueScheduler.Instance,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: PauseWriterThreshold,
            resumeWriterThreshold: PauseWriterThreshold / 2,
            useSynchronizationContext: false));
        _sending = SendAsync();
    }

    public PipeReader Input { get; }

    public PipeWriter Output => _output.Writer;

    /// <summary>Completes both directions and waits until the queued output has been handed to the TLS stream.</summary>
    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
    }

    private async Task SendAsync()
    {
        PipeReader reader = _output.Reader;
        byte[]? gather = null;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    if (buffer.IsSingleSegment || buffer.First.Length >= MaxRecordPlaintext)
                    {
                        ReadOnlyMemory<byte> first = buffer.First;
                        await _stream.WriteAsync(first, CancellationToken.None).ConfigureAwait(false);
                        buffer = buffer.Slice(first.Length);
                        continue;
                    }

                    // Several small segments: one record rather than one per segment. The buffer goes back to the pool
                    // after each record, so a kept-alive connection holds none while it waits.
                    gather = ArrayPool<byte>.Shared.Rent(MaxRecordPlaintext);
                    int length = (int)Math.Min(buffer.Length, MaxRecordPlaintext);
                    buffer.Slice(0, length).CopyTo(gather);
                    await _stream.WriteAsync(gather.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
                    ArrayPool<byte>.Shared.Return(gather);
                    gather = null;
                    buffer = buffer.Slice(length);
                }

                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            await reader.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException or InvalidOperationException or System.Security.Authentication.AuthenticationException)
        {
            // The connection is gone: Kestrel's next flush sees the failure and ends the connection.
            await reader.CompleteAsync(ex).ConfigureAwait(false);
        }
        finally
        {
            if (gather is not null)
            {
                ArrayPool<byte>.Shared.Return(gather);
            }
        }
    }

    // Runs the send loop after the flushing thread's current work item rather than on another thread at once: the rest of that
    // work item (Kestrel finishing the response) is what the loop should find queued. A thread outside the pool queues globally.
    private sealed class LocalQueueScheduler : PipeScheduler
    {
        public static readonly LocalQueueScheduler Instance = new();

        public override void Schedule(Action<object?> action, object? state) =>
            System.Threading.ThreadPool.UnsafeQueueUserWorkItem(action, state, preferLocal: true);
    }
}
