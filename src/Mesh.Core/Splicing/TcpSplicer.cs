using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.Versioning;
using Mesh.Configuration;
using Microsoft.Extensions.Logging;

namespace Mesh.Splicing;

/// <summary>
/// Splices two connections: every byte one side sends reaches the other, a FIN is forwarded as a half-close, a reset or
/// failure as a reset, and an idle connection holds no buffer. Between two sockets on Linux the bytes move with
/// <c>splice(2)</c> through a kernel pipe and never enter user space.
/// </summary>
/// <remarks>
/// The splicer owns the sockets (and stream) it is given: it sets <c>TCP_NODELAY</c> and non-blocking mode on them and
/// disposes them when the splice ends. Thread-safe; one instance serves any number of splices.
/// </remarks>
public sealed class TcpSplicer
{
    /// <summary>Creates a splicer that logs to <paramref name="logger"/> and publishes metrics through <paramref name="meterFactory"/>.</summary>
    public TcpSplicer(ILogger<TcpSplicer>? logger = null, IMeterFactory? meterFactory = null)
    {
        Telemetry = new SpliceTelemetry(logger, meterFactory);
    }

    /// <summary>Whether this system has the kernel path (Linux).</summary>
    [SupportedOSPlatformGuard("linux")]
    public static bool KernelPathAvailable => OperatingSystem.IsLinux();

    internal SpliceTelemetry Telemetry { get; }

    /// <summary>
    /// Splices two connected TCP sockets until both directions end, one side fails, the idle timeout passes or
    /// <paramref name="cancellationToken"/> fires. Never throws for what the peers do: the result says how it ended.
    /// </summary>
    /// <param name="a">Side A (for a gateway, the downstream connection).</param>
    /// <param name="b">Side B (the upstream connection).</param>
    /// <param name="prefix">Bytes already read from A, sent to B before anything else (e.g. a ClientHello a gateway peeked at). Must stay unchanged until the splice ends.</param>
    /// <param name="options">Settings; <see cref="SpliceOptions.Default"/> when null.</param>
    /// <param name="cancellationToken">Resets both sides and ends the splice with <see cref="SpliceEnd.Cancelled"/>.</param>
    public Task<SpliceResult> SpliceAsync(Socket a, Socket b, ReadOnlyMemory<byte> prefix = default, SpliceOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= SpliceOptions.Default;
        options.ThrowIfInvalid(SpliceOptionsValidator.Default);
        return new SocketPairSplice(this, a, b, prefix, options).Start(cancellationToken);
    }

    /// <summary>
    /// Splices a socket with a stream, typically an <see cref="System.Net.Security.SslStream"/> of a TLS-terminating hop.
    /// A FIN from A becomes <c>close_notify</c> (TLS 1.3 half-close) and a FIN on <paramref name="bTransport"/>; the end of
    /// B's stream becomes a FIN to A, unless it came without <c>close_notify</c> (see <see cref="SpliceOptions.TruncatedTlsEnd"/>).
    /// </summary>
    /// <param name="a">Side A, a connected TCP socket.</param>
    /// <param name="b">Side B, e.g. an authenticated <see cref="System.Net.Security.SslStream"/> over <paramref name="bTransport"/>.</param>
    /// <param name="bTransport">The transport under <paramref name="b"/>; it gives the splicer the FIN/reset of B's socket and tells
    /// an end with <c>close_notify</c> from a truncation. Without it a FIN from A is forwarded as <c>close_notify</c> only, an abort
    /// disposes <paramref name="b"/>, and every end of B counts as clean.</param>
    /// <param name="prefix">Bytes already read from A, written to B first. Must stay unchanged until the splice ends.</param>
    /// <param name="options">Settings; <see cref="SpliceOptions.Default"/> when null. The kernel path does not apply to a stream.</param>
    /// <param name="cancellationToken">Resets both sides and ends the splice with <see cref="SpliceEnd.Cancelled"/>.</param>
    public Task<SpliceResult> SpliceAsync(Socket a, Stream b, SocketTransportStream? bTransport, ReadOnlyMemory<byte> prefix = default, SpliceOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= SpliceOptions.Default;
        options.ThrowIfInvalid(SpliceOptionsValidator.Default);
        bTransport?.Socket.NoDelay = true;
        return new StreamSplice(this, a, b, bTransport, prefix, options).Start(cancellationToken);
    }

    /// <summary>
    /// Splices a socket with an in-process duplex pipe (for example the transport of a Kestrel connection whose bytes are
    /// handed on). A FIN from A completes <see cref="IDuplexPipe.Output"/>; the completion of <see cref="IDuplexPipe.Input"/>
    /// becomes a FIN to A. The pipe's own pause and resume thresholds bound the bytes waiting for B: A is not read while
    /// B's reader is behind. A reset of A or an abort completes both ends of the pipe with an error; an error from B's
    /// input resets A.
    /// </summary>
    /// <param name="a">Side A, a connected TCP socket.</param>
    /// <param name="b">Side B: the splice reads <see cref="IDuplexPipe.Input"/> and writes <see cref="IDuplexPipe.Output"/>, and completes both.</param>
    /// <param name="prefix">Bytes already read from A, written to B first. Must stay unchanged until the splice ends.</param>
    /// <param name="options">Settings; <see cref="SpliceOptions.Default"/> when null. The kernel path does not apply to a pipe.</param>
    /// <param name="cancellationToken">Resets A, completes the pipe with an error and ends the splice with <see cref="SpliceEnd.Cancelled"/>.</param>
    public Task<SpliceResult> SpliceAsync(Socket a, IDuplexPipe b, ReadOnlyMemory<byte> prefix = default, SpliceOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        options ??= SpliceOptions.Default;
        options.ThrowIfInvalid(SpliceOptionsValidator.Default);
        return new PipeSplice(this, a, b, prefix, options).Start(cancellationToken);
    }
}
