namespace Mesh.Sni.ClientHello;

/// <summary>The outcome of <see cref="ClientHelloParser"/>: a status, never an exception.</summary>
public enum ClientHelloParseStatus
{
    /// <summary>A whole, well-formed ClientHello was read; <see cref="ClientHelloInfo.BytesConsumed"/> says how many bytes its records span.</summary>
    Complete,

    /// <summary>The input is a valid beginning of a ClientHello; read more and parse again. <see cref="ClientHelloInfo.BytesMissing"/> is a lower bound.</summary>
    NeedMoreData,

    /// <summary>The first byte is not a TLS handshake record (0x16): HTTP, SSH, an SSLv2-style hello, ...</summary>
    NotTls,

    /// <summary>The input breaks the TLS grammar; <see cref="ClientHelloInfo.InvalidReason"/> names the rule.</summary>
    Invalid,

    /// <summary>The ClientHello announces more handshake data than the configured cap.</summary>
    TooLarge,
}
