using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// What <see cref="ClientHelloParser"/> learnt from a ClientHello. It refers to the parsed input (nothing is copied), so it
/// lives on the stack and is valid only while that input is.
/// </summary>
/// <remarks>
/// A gateway reading from a <c>PipeReader</c> parses <c>ReadResult.Buffer</c>; on <see cref="ClientHelloParseStatus.NeedMoreData"/>
/// it calls <c>AdvanceTo(buffer.Start, buffer.End)</c> and reads again; on <see cref="ClientHelloParseStatus.Complete"/> it
/// looks the route up from <see cref="ServerName"/> and replays the first <see cref="BytesConsumed"/> bytes unchanged.
/// </remarks>
[SuppressMessage("Design", "CA1051:Do not declare visible instance fields", Justification = "Internal fields written by the parser.")]
public ref struct ClientHelloInfo
{
    internal ReadOnlySpan<byte> _span;
    internal ReadOnlySequence<byte> _sequence;
    internal bool _fromSequence;
    internal ReadOnlySpan<byte> _serverName;
    internal ServerNameBuffer _serverNameCopy;
    internal bool _serverNameCopied;
    internal int _serverNameOffset;
    internal int _serverNameLength;
    internal bool _hasServerName;

    internal ClientHelloParseStatus _status;
    internal ClientHelloInvalidReason _invalidReason;
    internal int _bytesConsumed;
    internal int _bytesMissing;
    internal int _recordCount;
    internal int _handshakeLength;
    internal ushort _legacyVersion;
    internal int _cipherSuiteCount;
    internal int _extensionCount;
    internal int _extensionsOffset;
    internal int _extensionsLength;
    internal int _alpnOffset;
    internal int _alpnLength;
    internal int _alpnCount;
    internal int _versionsOffset;
    internal int _versionsLength;
    internal bool _hasEncryptedClientHello;

    /// <summary>The outcome of the parse.</summary>
    public readonly ClientHelloParseStatus Status => _status;

    /// <summary>The broken rule when <see cref="Status"/> is <see cref="ClientHelloParseStatus.Invalid"/>, else <see cref="ClientHelloInvalidReason.None"/>.</summary>
    public readonly ClientHelloInvalidReason InvalidReason => _invalidReason;

    /// <summary>On <see cref="ClientHelloParseStatus.Complete"/>: how many input bytes the records carrying the ClientHello span, headers included.</summary>
    public readonly int BytesConsumed => _bytesConsumed;

    /// <summary>
    /// On <see cref="ClientHelloParseStatus.NeedMoreData"/>: at least this many more bytes are needed before the parse can
    /// finish (exact when the record and handshake headers already read say so); 0 otherwise.
    /// </summary>
    public readonly int BytesMissing => _bytesMissing;

    /// <summary>How many TLS records carry the ClientHello.</summary>
    public readonly int RecordCount => _recordCount;

    /// <summary>The handshake message length, its 4-byte header included.</summary>
    public readonly int HandshakeLength => _handshakeLength;

    /// <summary><c>legacy_version</c>, for example 0x0303 (RFC 8446 §4.1.2).</summary>
    public readonly ushort LegacyVersion => _legacyVersion;

    /// <summary>How many cipher suites are offered, GREASE values included.</summary>
    public readonly int CipherSuiteCount => _cipherSuiteCount;

    /// <summary>How many extensions there are (0 when a TLS 1.0–1.2 hello has no extensions block).</summary>
    public readonly int ExtensionCount => _extensionCount;

    /// <summary>Whether a server_name extension with a host name is present.</summary>
    public readonly bool HasServerName => _hasServerName;

    /// <summary>
    /// The host name exactly as sent (printable ASCII, 1–255 bytes, a trailing dot kept), or empty. Points into the input
    /// when the name lies in one record of one segment, or else (it straddles a boundary of the input) into this value.
    /// </summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> ServerName => _serverNameCopied ? _serverNameCopy[.._serverNameLength] : _serverName;

    /// <summary>Whether an encrypted_client_hello extension (0xfe0d) is present: the server name is then the outer, public one.</summary>
    public readonly bool HasEncryptedClientHello => _hasEncryptedClientHello;

    /// <summary>Whether an application_layer_protocol_negotiation extension is present.</summary>
    public readonly bool HasAlpn => _alpnLength > 0;

    /// <summary>How many ALPN protocol names are offered.</summary>
    public readonly int AlpnProtocolCount => _alpnCount;

    /// <summary>Whether a supported_versions extension is present.</summary>
    public readonly bool HasSupportedVersions => _versionsOffset > 0;

    /// <summary>How many versions supported_versions offers, GREASE values included.</summary>
    public readonly int SupportedVersionCount => _versionsLength / 2;

    /// <summary>The server name as a string (allocates), or null when there is none.</summary>
    public readonly string? GetServerNameString() => _hasServerName ? Encoding.ASCII.GetString(ServerName) : null;

    /// <summary>Enumerates the ALPN protocol names in the order offered, without allocating.</summary>
    public readonly AlpnProtocolEnumerator AlpnProtocols =>
        new(_alpnLength > 0 ? CreateReader(_alpnOffset) : default, _alpnLength);

    /// <summary>Enumerates supported_versions in the order offered, without allocating.</summary>
    public readonly ProtocolVersionEnumerator SupportedVersions =>
        new(_versionsLength > 0 ? CreateReader(_versionsOffset) : default, _versionsLength / 2);

    /// <summary>Enumerates the extension types in the order sent, without allocating.</summary>
    public readonly ExtensionTypeEnumerator ExtensionTypes =>
        new(_extensionCount > 0 ? CreateReader(_extensionsOffset) : default, _extensionCount);

    internal readonly HandshakeReader CreateReader(int offset)
    {
        HandshakeReader reader = default;
        if (_fromSequence)
        {
            reader.Start(_sequence);
        }
        else
        {
            reader.Start(_span);
        }

        reader.Skip(offset);
        return reader;
    }
}
