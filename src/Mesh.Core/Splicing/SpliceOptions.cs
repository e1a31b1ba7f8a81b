namespace Mesh.Splicing;

/// <summary>
/// Settings of a splice. One instance may be shared by many splices; do not change it while they run. Each property says its
/// range; <see cref="TcpSplicer"/> refuses options out of range with an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/>.
/// </summary>
public sealed class SpliceOptions
{
    /// <summary>The options used when none are given.</summary>
    public static SpliceOptions Default { get; } = new();

    /// <summary>
    /// Pause threshold: the most bytes one direction holds in user space before it stops reading its source, so that TCP
    /// flow control pushes back on a sender whose reader is slow. Default 64 KiB; between 1 KiB and 1 MiB.
    /// The copy loop hands a whole buffer to the destination before it reads again, so it resumes when the held bytes
    /// reach zero. The kernel path holds no user-space bytes unless the destination is full (then at most a pipe's worth).
    /// </summary>
    public int MaxBufferedBytesPerDirection { get; init; } = 64 * 1024;

    /// <summary>Reset both sides once no byte has moved either way for this long. Default 1 hour, as Envoy's tcp_proxy.
    /// <see cref="Timeout.InfiniteTimeSpan"/> disables it.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The idle timeout that applies once one direction has ended (a half-closed connection), as HAProxy's
    /// <c>timeout client-fin</c>/<c>server-fin</c>: how long the other direction may sit silent before both sides are reset.
    /// Default <see langword="null"/>: <see cref="IdleTimeout"/>.
    /// </summary>
    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>Move bytes between two sockets with Linux <c>splice(2)</c> through a kernel pipe, so they never enter user space.
    /// Default <see langword="true"/>; ignored (the copy loop is used) on other systems and for stream sides.</summary>
    public bool UseKernelPath { get; init; } = true;

    /// <summary>
    /// Wait for idle sources on Mesh's own epoll threads, one per processor, and move the bytes on the thread that learns they
    /// arrived, rather than on the runtime's socket engine, which hands each wake-up from its epoll thread to a thread-pool
    /// worker; an idle connection then holds no receive state of the runtime. Default on for Linux on x86-64 and arm64; ignored
    /// elsewhere and for pipe sides. Internal: <see langword="false"/> puts the idle waits back on the socket engine.
    /// </summary>
    internal bool UseEventLoop { get; init; } = OperatingSystem.IsLinux();

    /// <summary>What an EOF without <c>close_notify</c> on a TLS side becomes. Default <see cref="TruncatedTlsEndPolicy.Reset"/>.</summary>
    public TruncatedTlsEndPolicy TruncatedTlsEnd { get; init; } = TruncatedTlsEndPolicy.Reset;

    /// <summary>The clock of the idle timeouts. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
