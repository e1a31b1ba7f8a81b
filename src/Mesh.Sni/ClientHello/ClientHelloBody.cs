using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// The ClientHello message grammar, read from the whole handshake message by offset: the parser hands it the message as one
/// span when it is contiguous in the input, and as the records and segments that carry it when it is not (see
/// <see cref="IHandshakeMessage"/>).
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
    /// <typeparam name="TMessage">How the message lies in the input.</typeparam>
    /// <param name="message">The whole handshake message, its 4-byte header included: offsets into it are handshake-stream offsets.</param>
    /// <param name="hello">Receives what the hello says; names and lists are recorded as offsets into <paramref name="message"/>.</param>
    /// <returns>The broken rule, or none.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // one frame for the grammar, whatever the caller: inlined, its registers mixed with the caller's
    internal static ClientHelloInvalidReason Parse<TMessage>(scoped TMessage message, ref ClientHelloInfo hello)
        where TMessage : IHandshakeMessage, allows ref struct
    {
        int length = message.Length;
        int p = TlsWire.HandshakeHeaderLength;

        // ProtocolVersion legacy_version; Random random; and the length of legacy_session_id.
        if (length - p < 2 + 32 + 1)
        {
            return ClientHelloInvalidReason.BodyTruncated;
        }

        hello._legacyVersion = (ushort)message.ReadUInt16(p);
        p += 2 + 32;

        // opaque legacy_session_id<0..32>; 32 bytes in most hellos (RFC 8446 §D.4: a TLS 1.3 client in middlebox
        // compatibility mode, and a TLS 1.2 client resuming). The lengths of the fixed fields are a chain, each giving the
        // next field's offset; a predicted branch that adds the constant lets the reads after it start before this byte
        // has arrived, where adding the byte read would make them wait for it.
        int sessionIdLength = message.ReadUInt8(p++);
        if (sessionIdLength == TlsWire.MaxSessionIdLength)
        {
            if (length - p < TlsWire.MaxSessionIdLength)
            {
                return ClientHelloInvalidReason.SessionIdOverrun;
            }

            p += TlsWire.MaxSessionIdLength;
        }
        else
        {
            if (sessionIdLength > TlsWire.MaxSessionIdLength)
            {
                return ClientHelloInvalidReason.SessionIdTooLong;
            }

            if (length - p < sessionIdLength)
            {
                return ClientHelloInvalidReason.SessionIdOverrun;
            }

            p += sessionIdLength;
        }

        // CipherSuite cipher_suites<2..2^16-2>; two bytes each.
        if (length - p < 2)
        {
            return ClientHelloInvalidReason.BodyTruncated;
        }

        int cipherSuitesLength = message.ReadUInt16(p);
        p += 2;
        if (length - p < cipherSuitesLength)
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
        if (length - p < 1)
        {
            return ClientHelloInvalidReason.BodyTruncated;
        }

        // One method, null, in every TLS 1.3 hello (RFC 8446 §4.1.2) and nearly every other: the same predicted constant.
        int compressionLength = message.ReadUInt8(p++);
        if (compressionLength == 1)
        {
            if (length - p < 1)
            {
                return ClientHelloInvalidReason.CompressionMethodsOverrun;
            }

            p++;
        }
        else
        {
            if (compressionLength == 0)
            {
                return ClientHelloInvalidReason.CompressionMethodsEmpty;
            }

            if (length - p < compressionLength)
            {
                return ClientHelloInvalidReason.CompressionMethodsOverrun;
            }

            p += compressionLength;
        }

        // Extension extensions<8..2^16-1>; absent in a TLS 1.0-1.2 hello (RFC 5246 §7.4.1.2), and when present it ends the
        // message exactly. (An empty block is accepted, as OpenSSL and BoringSSL do.)
        int left = length - p;
        if (left < 2)
        {
            return left == 0 ? ClientHelloInvalidReason.None : ClientHelloInvalidReason.ExtensionsLengthTruncated;
        }

        int extensionsLength = message.ReadUInt16(p);
        p += 2;
        if (extensionsLength > length - p)
        {
            return ClientHelloInvalidReason.ExtensionsOverrun;
        }

        if (extensionsLength < length - p)
        {
            return ClientHelloInvalidReason.TrailingHandshakeData;
        }

        hello._extensionsOffset = p;
        hello._extensionsLength = extensionsLength;
        return ClientHelloExtensions.Parse(message, p, ref hello);
    }
}
