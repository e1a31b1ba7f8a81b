namespace Mesh.Splicing;

/// <summary>
/// What a TCP FIN without a TLS <c>close_notify</c> before it becomes. <see cref="System.Net.Security.SslStream"/> returns 0
/// for both, so without this decision anyone on the path could cut a stream short and have it taken for a complete one
/// (RFC 8446 §6.1: a close_notify is required before closing the write side).
/// </summary>
public enum TruncatedTlsEndPolicy
{
    /// <summary>Reset the plain side: its peer sees a failure, never a clean end. The default.</summary>
    Reset = 0,

    /// <summary>Forward it as a FIN, as a plain TCP end (for peers known to close without <c>close_notify</c>).</summary>
    HalfClose,
}
