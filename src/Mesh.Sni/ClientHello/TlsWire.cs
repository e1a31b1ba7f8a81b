namespace Mesh.Sni.ClientHello;

/// <summary>The sizes, limits and code points of the TLS wire format that the ClientHello grammar reads.</summary>
internal static class TlsWire
{
    /// <summary>ContentType handshake(22) (RFC 8446 §5.1).</summary>
    internal const byte ContentTypeHandshake = 22;

    /// <summary>HandshakeType client_hello(1) (RFC 8446 §4).</summary>
    internal const byte HandshakeTypeClientHello = 1;

    /// <summary>type(1), legacy_record_version(2), length(2) (RFC 8446 §5.1).</summary>
    internal const int RecordHeaderLength = 5;

    /// <summary>msg_type(1), uint24 length(3) (RFC 8446 §4).</summary>
    internal const int HandshakeHeaderLength = 4;

    /// <summary>A record's fragment "MUST NOT exceed 2^14 bytes" (RFC 8446 §5.1).</summary>
    internal const int MaxFragmentLength = 1 << 14;

    /// <summary><c>opaque legacy_session_id&lt;0..32&gt;</c> (RFC 8446 §4.1.2).</summary>
    internal const int MaxSessionIdLength = 32;

    /// <summary>A DNS host name is at most 255 bytes (RFC 6066 §3 refers to RFC 1035).</summary>
    internal const int MaxHostNameLength = 255;

    internal const ushort ExtensionServerName = 0;
    internal const ushort ExtensionAlpn = 16;
    internal const ushort ExtensionPreSharedKey = 41;
    internal const ushort ExtensionSupportedVersions = 43;
    internal const ushort ExtensionEncryptedClientHello = 0xfe0d;
}
