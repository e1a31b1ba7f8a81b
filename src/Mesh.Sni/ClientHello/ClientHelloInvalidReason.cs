namespace Mesh.Sni.ClientHello;

/// <summary>Why <see cref="ClientHelloParser"/> found a ClientHello invalid: one value per rule, stable for log lines.</summary>
public enum ClientHelloInvalidReason
{
    /// <summary>The hello is not invalid.</summary>
    None = 0,

    /// <summary>A record's length is over 2^14 (RFC 8446 §5.1).</summary>
    RecordTooLong,

    /// <summary>A handshake record carries a zero-length fragment (RFC 8446 §5.1).</summary>
    EmptyRecord,

    /// <summary>A record of another content type sits between the ClientHello's fragments (RFC 8446 §5.1).</summary>
    UnexpectedContentType,

    /// <summary>A record's version major byte is not 3.</summary>
    BadRecordVersion,

    /// <summary>The first handshake message is not a client_hello.</summary>
    NotClientHello,

    /// <summary>The ClientHello's last record holds bytes after the message (a message preceding a key change must end its record, RFC 8446 §5.1).</summary>
    DataAfterClientHello,

    /// <summary>The handshake ends inside legacy_version, random or a length field.</summary>
    BodyTruncated,

    /// <summary>legacy_session_id is longer than 32 bytes.</summary>
    SessionIdTooLong,

    /// <summary>legacy_session_id runs past the end of the message.</summary>
    SessionIdOverrun,

    /// <summary>cipher_suites runs past the end of the message.</summary>
    CipherSuitesOverrun,

    /// <summary>cipher_suites has an odd length.</summary>
    CipherSuitesOddLength,

    /// <summary>cipher_suites is empty.</summary>
    CipherSuitesEmpty,

    /// <summary>legacy_compression_methods runs past the end of the message.</summary>
    CompressionMethodsOverrun,

    /// <summary>legacy_compression_methods is empty.</summary>
    CompressionMethodsEmpty,

    /// <summary>One byte is left where the two-byte extensions length belongs.</summary>
    ExtensionsLengthTruncated,

    /// <summary>The extensions block runs past the end of the message.</summary>
    ExtensionsOverrun,

    /// <summary>Bytes follow the extensions block inside the message.</summary>
    TrailingHandshakeData,

    /// <summary>Fewer than four bytes are left in the extensions block for an extension's type and length.</summary>
    ExtensionHeaderTruncated,

    /// <summary>An extension's data runs past the extensions block.</summary>
    ExtensionOverrun,

    /// <summary>An extension type appears twice (RFC 8446 §4.2).</summary>
    DuplicateExtension,

    /// <summary>The server_name extension is too short to hold its list length.</summary>
    ServerNameListTruncated,

    /// <summary>The server_name list length does not match the extension length.</summary>
    ServerNameListLengthMismatch,

    /// <summary>The server_name list is empty (RFC 6066 §3: <c>server_name_list&lt;1..2^16-1&gt;</c>).</summary>
    ServerNameListEmpty,

    /// <summary>A server_name entry is cut short or its host name runs past the list.</summary>
    ServerNameEntryTruncated,

    /// <summary>A server_name entry has a name_type other than host_name(0), whose layout is unknown.</summary>
    ServerNameUnknownType,

    /// <summary>The server_name list holds more than one host_name (RFC 6066 §3).</summary>
    ServerNameDuplicateHostName,

    /// <summary>The host name is empty.</summary>
    HostNameEmpty,

    /// <summary>The host name is longer than 255 bytes.</summary>
    HostNameTooLong,

    /// <summary>The host name holds a byte outside printable ASCII (NUL, a control byte, DEL or a byte of 0x80 or more).</summary>
    HostNameInvalidCharacter,

    /// <summary>The ALPN extension is too short to hold its list length.</summary>
    AlpnListTruncated,

    /// <summary>The ALPN list length does not match the extension length.</summary>
    AlpnListLengthMismatch,

    /// <summary>The ALPN list is empty (RFC 7301 §3.1: <c>protocol_name_list&lt;2..2^16-1&gt;</c>).</summary>
    AlpnListEmpty,

    /// <summary>An ALPN protocol name is empty (RFC 7301 §3.1: <c>ProtocolName&lt;1..2^8-1&gt;</c>).</summary>
    AlpnEmptyProtocolName,

    /// <summary>An ALPN protocol name runs past the list.</summary>
    AlpnProtocolOverrun,

    /// <summary>The supported_versions extension is empty or its list length does not match the extension length.</summary>
    SupportedVersionsLengthMismatch,

    /// <summary>The supported_versions list has an odd length.</summary>
    SupportedVersionsOddLength,

    /// <summary>A pre_shared_key extension is followed by another extension (RFC 8446 §4.2.11: it "MUST be the last extension in the ClientHello").</summary>
    PreSharedKeyNotLast,
}
