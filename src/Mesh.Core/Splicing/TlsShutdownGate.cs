using System.Net.Security;

namespace Mesh.Splicing;

/// <summary>
/// Keeps a TLS side's <c>close_notify</c> from being made while its reading direction is inside the TLS library. OpenSSL's
/// <c>SSL_shutdown</c> refuses with "shutdown while in init" while <c>SSL_read</c> on another thread is processing a
/// post-handshake message, such as the NewSessionTicket a TLS 1.3 server sends right after the handshake (RFC 8446 §4.6.1):
/// a caller that sends its request and its FIN at once had its half-close turned into a reset that way.
/// </summary>
/// <remarks>
/// The reading direction is inside the TLS stream from the moment its transport hands it bytes until it asks the transport for
/// more or returns to the splice; both are short and never wait. The shutdown waits for the reader to be outside, and the reader
/// waits the few microseconds the shutdown's record takes to make.
/// </remarks>
internal sealed class TlsShutdownGate
{
    private const int Outside = 0;
    private const int Reading = 1;
    private const int ShuttingDown = 2;
    private int _state;

    /// <summary>The reading direction is about to use the TLS stream (its transport returned bytes, or it calls a read).</summary>
    public void EnterRead()
    {
        SpinWait spin = default;
        while (Interlocked.CompareExchange(ref _state, Reading, Outside) == ShuttingDown)
        {
            spin.SpinOnce();
        }
    }

    /// <summary>The reading direction waits on its transport or has left the TLS stream.</summary>
    public void ExitRead() => Interlocked.CompareExchange(ref _state, Outside, Reading);

    /// <summary>Sends <paramref name="tls"/>'s <c>close_notify</c> once the reading direction is outside the TLS stream.</summary>
    public async ValueTask ShutdownAsync(SslStream tls)
    {
        SpinWait spin = default;
        while (Interlocked.CompareExchange(ref _state, ShuttingDown, Outside) != Outside)
        {
            if (spin.NextSpinWillYield)
            {
                // The reader may be waiting on something of its own (a TLS 1.3 KeyUpdate answer being written): off this thread.
                await Task.Yield();
                spin = default;
            }
            else
            {
                spin.SpinOnce();
            }
        }

        Task written;
        try
        {
            // The record is made here; sending it needs no gate.
            written = tls.ShutdownAsync();
        }
        finally
        {
            Volatile.Write(ref _state, Outside);
        }

        await written.ConfigureAwait(false);
    }
}
