using Mesh.Splicing;

namespace Mesh.Sni.Gateway;

/// <summary>
/// How long a gateway listener stops accepting when the process or the system is out of descriptors or socket memory (EMFILE,
/// ENFILE, ENOBUFS, ENOMEM): the policy of every listener of the mesh, <see cref="TcpAcceptLoop"/>'s, on both engines — 10 ms,
/// doubling up to 1 s, back to 10 ms once a connection is accepted. The socket engine runs <see cref="TcpAcceptLoop"/> itself;
/// the event loop, which accepts on its own thread, steps through the same values here.
/// </summary>
internal static class GatewayAcceptBackoff
{
    /// <summary>The first back-off.</summary>
    public static TimeSpan Initial => TcpAcceptLoop.InitialBackoff;

    /// <summary>The back-off after <paramref name="backoff"/> when descriptors are still short.</summary>
    public static TimeSpan Next(TimeSpan backoff) => TcpAcceptLoop.NextBackoff(backoff);
}
