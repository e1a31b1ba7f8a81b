using Mesh.Intentions;

namespace Mesh.Tls.InProcess;

/// <summary>
/// What <see cref="MeshService.AdmitHttpConnectionAsync"/> decided about a connection an HTTP server accepted: the caller's TLS
/// stream and whether it may carry on.
/// </summary>
public sealed class MeshHttpAdmission
{
    internal MeshHttpAdmission(MeshStream stream, bool isAdmitted, IntentionDecision decision)
    {
        Stream = stream;
        IsAdmitted = isAdmitted;
        Decision = decision;
    }

    /// <summary>
    /// The caller's TLS stream (<see cref="MeshStream.Peer"/> is its validated identity). It carries the connection when
    /// <see cref="IsAdmitted"/>; dispose it in every case — for a refused caller, after resetting the transport, so the caller
    /// never takes the refusal for a clean end of stream.
    /// </summary>
    public MeshStream Stream { get; }

    /// <summary>Whether the caller may carry on: an intention allows it (L4), or one with HTTP permissions matches it and each request is decided on its own (L7).</summary>
    public bool IsAdmitted { get; }

    /// <summary>The intentions' decision about the caller; the default value when the handshake or the caller's certificate failed.</summary>
    public IntentionDecision Decision { get; }
}
