namespace Mesh.Tls.Admission;

/// <summary>How far an inbound admission goes after the handshake.</summary>
internal enum InboundAdmissionMode
{
    /// <summary>The intentions decide the connection (L4); an intention with HTTP permissions denies it, as Consul does for TCP.</summary>
    Connection,

    /// <summary>As <see cref="Connection"/>, but an intention with HTTP permissions lets the connection in (an HTTP server decides each request).</summary>
    HttpConnection,

    /// <summary>Only the handshake and the caller's X.509-SVID; the caller asks the intentions itself.</summary>
    AuthenticateOnly,
}
