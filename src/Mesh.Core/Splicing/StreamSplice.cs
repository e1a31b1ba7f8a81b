using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Mesh.Splicing;

/// <summary>
/// A splice of a socket with a stream (TLS-terminating hops): the copy loop, with a TLS half-close. The transport under the
/// stream, when given, carries B's FIN and reset and tells an end with <c>close_notify</c> from a truncation.
/// </summary>
internal sealed class StreamSplice : Splice
{
    private readonly Stream _bStream;
    private readonly SocketTransportStream? _bTransport;

    public StreamSplice(TcpSplicer owner, Socket a, Stream b, SocketTransportStream? bTransport, ReadOnlyMemory<byte> prefix, SpliceOptions options)
        : base(owner, a, prefix, options)
    {
        _bStream = b;
        _bTransport = bTransport;
        if (b is SslStream && bTransport is not null)
        {
            // The transport tells when the reading direction is inside the TLS stream; without it the shutdown cannot know.
            _tlsGate = new TlsShutdownGate();
            bTransport.ReadGate = _tlsGate;
        }
    }

    // Keeps B's close_notify apart from B → A's use of the TLS stream (see TlsShutdownGate); null unless B is TLS over a known transport.
    private readonly TlsShutdownGate? _tlsGate;

    // A → B waits for A on an event loop (SpliceOptions.UseEventLoop); null: the socket engine's zero-byte receive. B → A
    // waits through the stream, whose transport waits on the same loop.
    private ReadinessWaiter? _aReadable;

    protected override void StartDirections()
    {
        if (Options.UseEventLoop && OperatingSystem.IsLinux())
        {
            SocketReadinessLoop? loop = SocketReadinessLoop.Next();
            _aReadable = ReadinessWaiter.TryCreate(loop, A);
            _bTransport?.WaitOn(ReadinessWaiter.TryCreate(loop, _bTransport.Socket));
        }

        _ = RunDirectionsAsync(CopySocketToStreamAsync(), CopyStreamToSocketAsync());
    }

    protected override void CloseWaits()
    {
        if (OperatingSystem.IsLinux())
        {
            _aReadable?.Close();
            _bTransport?.CloseWait();
        }
    }

    private ValueTask<int> WaitForA() =>
        OperatingSystem.IsLinux() && _aReadable is { } waiter ? waiter.WaitAsync() : A.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);

    protected override void DisposeSideB()
    {
        _bStream.Dispose();
        _bTransport?.Dispose();
    }

    protected override void AbortSideB()
    {
        if (_bTransport is not null)
        {
            Reset(_bTransport.Socket);
        }

        try
        {
            _bStream.Dispose();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // The stream was failing already; the reset above is what its peer sees.
        }
    }

    private async Task CopySocketToStreamAsync()
    {
        Stream b = _bStream;
        byte[]? buffer = null;
        bool sourceFailing = false;
        try
        {
            if (!Prefix.IsEmpty)
            {
                await b.WriteAsync(Prefix).ConfigureAwait(false);
                Moved(Prefix.Length, forward: true);
            }

            while (true)
            {
                sourceFailing = true;
                _ = await WaitForA().ConfigureAwait(false);
                buffer = SpliceBuffers.Pool.Rent(BufferSize);
                while (true)
                {
                    sourceFailing = true;
                    int read = ReceiveAvailable(A, buffer.AsSpan(0, BufferSize), out SocketError error);
                    if (error == SocketError.WouldBlock)
                    {
                        break;
                    }

                    if (error != SocketError.Success)
                    {
                        Fail(sideA: true, new SocketException((int)error));
                        return;
                    }

                    sourceFailing = false;
                    if (read == 0)
                    {
                        await HalfCloseStreamAsync(b).ConfigureAwait(false);
                        return;
                    }

                    await b.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                    Moved(read, forward: true);
                }

                sourceFailing = false;
                await b.FlushAsync().ConfigureAwait(false);
                SpliceBuffers.Pool.Return(buffer);
                buffer = null;
            }
        }
        catch (Exception e)
        {
            Fail(sideA: sourceFailing, e);
        }
        finally
        {
            if (buffer is not null)
            {
                SpliceBuffers.Pool.Return(buffer);
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask HalfCloseStreamAsync(Stream b)
    {
        await b.FlushAsync().ConfigureAwait(false);

        // TLS 1.3 half-close (RFC 8446 §6.1): close_notify closes our write side only, then the TCP FIN. Over TLS 1.2 the
        // peer answers close_notify by closing too (RFC 5246 §7.2.1): there is no half-close to keep there.
        if (b is SslStream tls)
        {
            if (_tlsGate is not null)
            {
                await _tlsGate.ShutdownAsync(tls).ConfigureAwait(false);
            }
            else
            {
                await tls.ShutdownAsync().ConfigureAwait(false);
            }
        }

        if (_bTransport is not null)
        {
            HalfClose(_bTransport.Socket, destinationIsA: false);
        }
        else
        {
            DirectionFinished();
        }
    }

    private async Task CopyStreamToSocketAsync()
    {
        Stream b = _bStream;
        byte[]? buffer = null;
        bool sourceFailing = false;
        try
        {
            while (true)
            {
                sourceFailing = true;

                // SslStream (since .NET 6) passes a zero-byte read through when it holds no decrypted bytes. A read may decrypt
                // what the stream holds before it reaches the transport: it is inside the TLS stream until then.
                _tlsGate?.EnterRead();
                _ = await b.ReadAsync(Memory<byte>.Empty).ConfigureAwait(false);
                _tlsGate?.ExitRead();
                buffer = SpliceBuffers.Pool.Rent(BufferSize);
                _tlsGate?.EnterRead();
                int read = await b.ReadAsync(buffer.AsMemory(0, BufferSize)).ConfigureAwait(false);
                _tlsGate?.ExitRead();
                if (read == 0)
                {
                    if (b is SslStream && _bTransport is { ReachedEnd: true } && Options.TruncatedTlsEnd == TruncatedTlsEndPolicy.Reset)
                    {
                        // SslStream returned 0 because the transport did, not because of a close_notify: a truncation.
                        Abort(SpliceEnd.TruncatedByB, new IOException("Side B's TLS stream ended without close_notify."));
                        return;
                    }

                    HalfClose(A, destinationIsA: true);
                    return;
                }

                sourceFailing = false;
                ReadOnlyMemory<byte> rest = buffer.AsMemory(0, read);
                while (!rest.IsEmpty)
                {
                    rest = rest[await A.SendAsync(rest, SocketFlags.None).ConfigureAwait(false)..];
                }

                Moved(read, forward: false);
                SpliceBuffers.Pool.Return(buffer);
                buffer = null;
            }
        }
        catch (Exception e)
        {
            _tlsGate?.ExitRead();
            Fail(sideA: !sourceFailing, e);
        }
        finally
        {
            if (buffer is not null)
            {
                SpliceBuffers.Pool.Return(buffer);
            }
        }
    }
}
