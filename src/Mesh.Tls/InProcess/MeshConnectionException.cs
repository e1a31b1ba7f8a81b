using Mesh.Identity;

namespace Mesh.Tls.InProcess;

/// <summary>
/// A mesh connection failed or was refused. An <see cref="IOException"/>, so HTTP clients and stream readers treat it as a
/// transport failure; <see cref="Error"/> says which, and the message names the upstream or the peer.
/// </summary>
public sealed class MeshConnectionException : IOException
{
    /// <summary>Creates an exception.</summary>
    public MeshConnectionException(MeshConnectionError error, string? upstream, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
        Upstream = upstream;
    }

    /// <summary>Creates an exception with no details (for serializers and tests).</summary>
    public MeshConnectionException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public MeshConnectionException(string message) : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public MeshConnectionException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>What went wrong.</summary>
    public MeshConnectionError Error { get; }

    /// <summary>The upstream that was dialled (<c>counting@dc2</c>), or null on the accepting side.</summary>
    public string? Upstream { get; }

    /// <summary>The peer's SPIFFE ID when it was authenticated (a denied caller, a mismatched server).</summary>
    public SpiffeId Peer { get; init; }
}
