namespace Mesh.Tls.Admission;

/// <summary>How the admission of one inbound mesh connection ended.</summary>
internal enum InboundAdmissionStatus
{
    /// <summary>The caller proved a valid X.509-SVID and an intention allows it to connect (L4).</summary>
    Admitted,

    /// <summary>
    /// The caller proved a valid X.509-SVID and an intention with HTTP permissions matches it: the connection is let in and each
    /// request is decided on its own (Consul's L7 intentions; only an HTTP server asks for this).
    /// </summary>
    AdmittedForL7,

    /// <summary>The caller proved a valid X.509-SVID; no intention was asked (the caller decides itself).</summary>
    Authenticated,

    /// <summary>The TLS handshake failed before any certificate was judged: a timeout, plain text, a closed connection.</summary>
    HandshakeFailed,

    /// <summary>The caller's certificate was refused; <see cref="InboundAdmissionResult.Validation"/> names the rule.</summary>
    Unauthenticated,

    /// <summary>The caller is authenticated but the intentions deny it (or it is not a service identity).</summary>
    Denied,
}
