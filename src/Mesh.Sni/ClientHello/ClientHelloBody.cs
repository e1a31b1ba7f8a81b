using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// The ClientHello message grammar, read from the whole handshake message as one span: the parser hands it the message where
/// it lies in the input when it is contiguous there, and a gathered copy of its fragments when it is not.
/// </summary>
[SkipLocalsInit]
internal static class ClientHelloBody
{
    /// <summary>Checks the ClientHello fields and hands the extensions block to <see cref="ClientHelloExtensions"/>.</summary>
    /// <remarks>
    /// RFC 8446 §4.1.2 (RFC 5246 §7.4.1.2 for TLS 1.0–1.2, where the extensions block may be absent):
    /// <code>
    /// uint16 ProtocolVersion;
    /// opaque Random[32];
    /// uint8 CipherSuite[2];
    ///
    /// struct {
    ///     ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
    ///     Random random;
    ///     opaque legacy_session_id&lt;0..32&gt;;
    ///     CipherSuite cipher_suites&lt;2..2^16-2&gt;;
    ///     opaque legacy_compression_methods&lt;1..2^8-1&gt;;
    ///     Extension extensions&lt;8..2^16-1&gt;;
    /// } ClientHello;
    /// </code>
    /// The record walk has checked the handshake header (client_hello, its length) and that the records carry exactly the
    /// message; every length here is checked against the message's end.
    /// </remarks>
    /// <param name="message">The whole handshake message, its 4-byte header included: offsets into it are handshake-stream offsets.</param>
    /// <param name="hello">Receives what the hello says; names and lists are recorded as offsets into <paramref name="message"/>.</param>
    /// <returns>The broken rule, or none.</returns>
    internal static ClientHelloInvalidReason Parse(scoped ReadOnlySpan<byte> message, ref ClientHelloInfo hello)
    {
        int p = TlsWire.HandshakeHeaderLength;

        // ProtocolVersion legacy_version; Random random; and the length of legacy_session_id.
        if (message.Length - p < 2 + 32 + 1)
        {
            return ClientHelloInvalidReason.BodyTruncated;
        }

        hello._legacyVersion = BinaryPrimitives.ReadUInt16BigEndian(message[p..]);
        p += 2 + 32;

        // opaque legacy_session_id<0..32>;
        int sessionIdLength = message[p++];
        if (sessionIdLength > TlsWire.MaxSessionIdLength)
        {
            return ClientHelloInvalidReason.SessionIdTooLong;
        }

        if (message.Length - p < sessionIdLength)
        {
            return ClientHelloInvalidReason.SessionIdOverrun;
        }

        p += sessionIdLength;

        // CipherSuite cipher_suites<2..2^16-2>; two bytes each.
        if (message.Length - p < 2)
        {
            return ClientHelloInvalidReason.BodyTruncated;
        }

        int cipherSuitesLength = BinaryPrimitives.ReadUInt16BigEndian(message[p..]);
        p += 2;
        if (message.Length - p < cipherSuitesLength)
        {
            return ClientHelloInvalidReason.CipherSuitesOverrun;
        }

        if (cipherSuitesLength == 0)
        {
            return ClientHelloInvalidReason.CipherSuitesEmpty;
        }

        if ((cipherSuitesLength & 1) != 0)
        {
            return ClientHelloInvalidReason.CipherSuitesOddLength;
        }

        hello._cipherSuiteCount = cipherSuitesLength >> 1;
        p += cipherSuitesLength;

        // opaque legacy_compression_methods<1..2^8-1>;
        if (message.Length - p < 1)
        {
            return ClientHelloInvalidReason.BodyTruncated;
        }

        int compressionLength = message[p++];
        if (compressionLength == 0)
        {
            return ClientHelloInvalidReason.CompressionMethodsEmpty;
        }

        if (message.Length - p < compressionLength)
        {
            return ClientHelloInvalidReason.CompressionMethodsOverrun;
        }

        p += compressionLength;

        // Extension extensions<8..2^16-1>; absent in a TLS 1.0-1.2 hello (RFC 5246 §7.4.1.2), and when present it ends the
        // message exactly. (An empty block is accepted, as OpenSSL and BoringSSL do.)
        int left = message.Length - p;
        if (left < 2)
        {
            return left == 0 ? ClientHelloInvalidReason.None : ClientHelloInvalidReason.ExtensionsLengthTruncated;
        }

        int extensionsLength = BinaryPrimitives.ReadUInt16BigEndian(message[p..]);
        p += 2;
        if (extensionsLength > message.Length - p)
        {
            return ClientHelloInvalidReason.ExtensionsOverrun;
        }

        if (extensionsLength < message.Length - p)
        {
            return ClientHelloInvalidReason.TrailingHandshakeData;
        }

        hello._extensionsOffset = p;
        hello._extensionsLength = extensionsLength;
        return ClientHelloExtensions.Parse(message[p..], p, ref hello);
    }
}
