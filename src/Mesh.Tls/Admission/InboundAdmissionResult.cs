using System.Net.Security;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Tls.Validation;

namespace Mesh.Tls.Admission;

/// <summary>
/// The outcome of admitting one inbound mesh connection. The TLS stream is always given back: an admitted connection carries on
/// over it; for a refused one the adapter resets its transport (a socket reset, a Kestrel abort) and disposes the stream.
/// </summary>
internal readonly record struct InboundAdmissionResult(
    InboundAdmissionStatus Status,
    long ConnectionId,
    SslStream Tls,
    SvidValidationResult Validation,
    IntentionDecision Decision,
    string? Reason,
    Exception? Error)
{
    /// <summary>Whether the connection may carry on: admitted (L4 or L7) or, when no intention was asked, authenticated.</summary>
    public bool IsAdmitted => Status is InboundAdmissionStatus.Admitted or InboundAdmissionStatus.AdmittedForL7 or InboundAdmissionStatus.Authenticated;

    /// <summary>The caller's validated SPIFFE ID; default when the handshake failed before a certificate was judged.</summary>
    public SpiffeId Peer => Validation.PeerId;

    /// <summary>The caller as a service; default when its SPIFFE ID names no service.</summary>
    public ServiceIdentity PeerService => ServiceIdentity.TryFromSpiffeId(Validation.PeerId, out ServiceIdentity service) ? service : default;
}
