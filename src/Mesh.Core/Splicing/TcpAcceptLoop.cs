using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Splicing;

/// <summary>
/// Accepts connections until cancelled. When the process or the system is out of file descriptors (EMFILE, ENFILE) it
/// backs off instead of spinning: the pending connection stays in the backlog and is accepted once descriptors free up.
/// </summary>
public static class TcpAcceptLoop
{
    /// <summary>The first back-off after running out of descriptors; it doubles up to <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan InitialBackoff { get; } = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest back-off.</summary>
    public static TimeSpan MaxBackoff { get; } = TimeSpan.FromSeconds(1);

    /// <summary>The back-off after <paramref name="backoff"/> when descriptors are still short: twice as long, up to <see cref="MaxBackoff"/>.</summary>
    public static TimeSpan NextBackoff(TimeSpan backoff) => backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;

    /// <summary>
    /// Accepts on <paramref name="listener"/> and hands each connection to <paramref name="onAccepted"/>, which owns it from
    /// then on (start the splice there; do not block). Returns when <paramref name="cancellationToken"/> fires or the listener is closed.
    /// </summary>
    /// <param name="listener">A bound, listening socket.</param>
    /// <param name="onAccepted">Called for every accepted connection.</param>
    /// <param name="logger">Receives the back-off warnings.</param>
    /// <param name="timeProvider">The clock of the back-off; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="cancellationToken">Stops the loop.</param>
    /// <returns>How many times the loop backed off.</returns>
    public static async Task<long> RunAsync(Socket listener, Action<Socket> onAccepted, ILogger? logger = null, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(listener);
        ArgumentNullException.ThrowIfNull(onAccepted);
        logger ??= NullLogger.Instance;
        timeProvider ??= TimeProvider.System;
        // The back-off's log line runs when no descriptor is left, and its first use would load what it needs from disk (the
        // logging formatter's assemblies): load it now, while descriptors are there, or the warning would end the process.
        RuntimeHelpers.RunClassConstructor(typeof(SpliceLog).TypeHandle);
        TimeSpan backoff = InitialBackoff;
        long backoffs = 0;
        string? endpoint = listener.LocalEndPoint?.ToString();
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable)
            {
                backoffs++;
                SpliceLog.AcceptBackoff(logger, e.SocketErrorCode, endpoint, (int)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, timeProvider, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                backoff = NextBackoff(backoff);
                continue;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset or SocketError.Interrupted)
            {
                // The client gave up before we accepted: nothing to do for it.
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted })
            {
                break;
            }

            backoff = InitialBackoff;
            onAccepted(accepted);
        }

        return backoffs;
    }
}
