using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace Mesh.Splicing;

/// <summary>
/// A splice of a socket with an in-process duplex pipe (e.g. a Kestrel connection's transport): the pipe's own thresholds
/// bound what waits for B.
/// </summary>
internal sealed class PipeSplice : Splice
{
    private readonly IDuplexPipe _bPipe;

    public PipeSplice(TcpSplicer owner, Socket a, IDuplexPipe b, ReadOnlyMemory<byte> prefix, SpliceOptions options)
        : base(owner, a, prefix, options)
    {
        _bPipe = b;
    }

    protected override void StartDirections() => _ = RunDirectionsAsync(CopySocketToPipeAsync(_bPipe.Output), CopyPipeToSocketAsync(_bPipe.Input));

    protected override void DisposeSideB()
    {
        // Both directions completed their end of the pipe already.
    }

    protected override void AbortSideB()
    {
        // Pipes are not thread-safe: wake their users, which complete them with an error (Kestrel's abort).
        _bPipe.Input.CancelPendingRead();
        _bPipe.Output.CancelPendingFlush();
    }

    private static IOException AbortedError() => new("The splice was aborted.");

    private async Task CopySocketToPipeAsync(PipeWriter output)
    {
        bool sourceFailing = false;
        bool completed = false;
        try
        {
            if (!Prefix.IsEmpty)
            {
                sourceFailing = false;
                FlushResult first = await output.WriteAsync(Prefix).ConfigureAwait(false);
                Moved(Prefix.Length, forward: true);
                if (first.IsCanceled || first.IsCompleted)
                {
                    PipeReaderGone(first);
                    return;
                }
            }

            while (true)
            {
                sourceFailing = true;
                _ = await A.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None).ConfigureAwait(false);
                long burst = 0;
                bool ended = false;
                while (burst < BufferSize)
                {
                    Memory<byte> memory = output.GetMemory();
                    int read = ReceiveAvailable(A, memory.Span, out SocketError error);
                    if (error == SocketError.WouldBlock)
                    {
                        break;
                    }

                    if (error != SocketError.Success)
                    {
                        Fail(sideA: true, new SocketException((int)error));
                        return;
                    }

                    if (read == 0)
                    {
                        ended = true;
                        break;
                    }

                    output.Advance(read);
                    burst += read;
                    if (read < memory.Length)
                    {
                        break;
                    }
                }

                sourceFailing = false;
                if (burst > 0)
                {
                    // Waits while B's reader is above the pipe's pause threshold: backpressure reaches A through TCP.
                    FlushResult flushed = await output.FlushAsync().ConfigureAwait(false);
                    Moved(burst, forward: true);
                    if (flushed.IsCanceled || flushed.IsCompleted)
                    {
                        PipeReaderGone(flushed);
                        return;
                    }
                }

                if (ended)
                {
                    completed = true;
                    await output.CompleteAsync().ConfigureAwait(false);
                    DirectionFinished();
                    return;
                }
            }
        }
        catch (Exception e)
        {
            Fail(sideA: sourceFailing, e);
        }
        finally
        {
            if (!completed)
            {
                await output.CompleteAsync(Ended ? AbortedError() : null).ConfigureAwait(false);
            }
        }
    }

    private void PipeReaderGone(FlushResult result)
    {
        if (!result.IsCanceled)
        {
            // B stopped reading while A still sends: those bytes can no longer be delivered.
            Fail(sideA: false, new IOException("Side B stopped reading."));
        }
    }

    private async Task CopyPipeToSocketAsync(PipeReader input)
    {
        bool sourceFailing = false;
        bool completed = false;
        try
        {
            while (true)
            {
                sourceFailing = true;
                ReadResult result = await input.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    return;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                sourceFailing = false;
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    ReadOnlyMemory<byte> rest = segment;
                    while (!rest.IsEmpty)
                    {
                        rest = rest[await A.SendAsync(rest, SocketFlags.None).ConfigureAwait(false)..];
                    }
                }

                if (!buffer.IsEmpty)
                {
                    Moved(buffer.Length, forward: false);
                }

                input.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    completed = true;
                    await input.CompleteAsync().ConfigureAwait(false);
                    HalfClose(A, destinationIsA: true);
                    return;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            Fail(sideA: !sourceFailing, e);
        }
        catch (Exception e)
        {
            // The writer of B's input completed with an error of its own: B failed.
            Fail(sideA: false, new IOException("Side B failed.", e));
        }
        finally
        {
            if (!completed)
            {
                await input.CompleteAsync(Ended ? AbortedError() : null).ConfigureAwait(false);
            }
        }
    }
}
