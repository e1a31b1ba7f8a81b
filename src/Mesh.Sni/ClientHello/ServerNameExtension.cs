using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>The server_name extension (RFC 6066 §3): the one host name a gateway routes by.</summary>
[SkipLocalsInit]
internal static class ServerNameExtension
{
    /// <summary>Reads the one host name of a server_name extension and remembers where it is.</summary>
    /// <remarks>
    /// RFC 6066 §3 ("The ServerNameList MUST NOT contain more than one name of the same name_type"; like OpenSSL and
    /// BoringSSL, only host_name is known, so another type cannot be skipped):
    /// <code>
    /// struct {
    ///     NameType name_type;
    ///     select (name_type) {
    ///         case host_name: HostName;
    ///     } name;
    /// } ServerName;
    ///
    /// enum {
    ///     host_name(0), (255)
    /// } NameType;
    ///
    /// opaque HostName&lt;1..2^16-1&gt;;
    ///
    /// struct {
    ///     ServerName server_name_list&lt;1..2^16-1&gt;
    /// } ServerNameList;
    /// </code>
    /// </remarks>
    /// <typeparam name="TMessage">How the message lies in the input.</typeparam>
    /// <param name="message">The handshake message.</param>
    /// <param name="offset">Where the extension_data starts.</param>
    /// <param name="length">The extension_data length, checked against the message.</param>
    /// <param name="hello">Receives the name's message offset and length.</param>
    /// <returns>The broken rule, or none.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the extension walk, which then makes no call (see ClientHelloExtensions)
    internal static ClientHelloInvalidReason Parse<TMessage>(scoped TMessage message, int offset, int length, ref ClientHelloInfo hello)
        where TMessage : IHandshakeMessage, allows ref struct
    {
        if (length < 2)
        {
            return ClientHelloInvalidReason.ServerNameListTruncated;
        }

        int listLength = message.ReadUInt16(offset);
        if (listLength != length - 2)
        {
            return ClientHelloInvalidReason.ServerNameListLengthMismatch;
        }

        if (listLength == 0)
        {
            return ClientHelloInvalidReason.ServerNameListEmpty;
        }

        // The usual list: one host_name entry that fills it. Its name's bounds then follow from the extension's length,
        // read by the walk long before, so the byte check starts without waiting for the entry's own length bytes; the
        // entry is held to every rule of the loop below, which takes any other list.
        int usualNameLength = length - 5;
        if (usualNameLength > 0 && usualNameLength <= TlsWire.MaxHostNameLength && message.ReadUInt8(offset + 2) == 0
            && message.ReadUInt16(offset + 3) == usualNameLength && !hello._hasServerName)
        {
            if (message.ContainsNonPrintableAscii(offset + 5, usualNameLength))
            {
                return ClientHelloInvalidReason.HostNameInvalidCharacter;
            }

            hello._serverNameOffset = offset + 5;
            hello._serverNameLength = usualNameLength;
            hello._hasServerName = true;
            return ClientHelloInvalidReason.None;
        }

        int end = offset + length;
        for (int p = offset + 2; p < end;)
        {
            if (end - p < 3)
            {
                return ClientHelloInvalidReason.ServerNameEntryTruncated;
            }

            if (message.ReadUInt8(p) != 0)
            {
                return ClientHelloInvalidReason.ServerNameUnknownType;
            }

            int nameLength = message.ReadUInt16(p + 1);
            p += 3;
            if (end - p < nameLength)
            {
                return ClientHelloInvalidReason.ServerNameEntryTruncated;
            }

            if (hello._hasServerName)
            {
                return ClientHelloInvalidReason.ServerNameDuplicateHostName;
            }

            if (nameLength == 0)
            {
                return ClientHelloInvalidReason.HostNameEmpty;
            }

            if (nameLength > TlsWire.MaxHostNameLength)
            {
                return ClientHelloInvalidReason.HostNameTooLong;
            }

            // Printable ASCII only: a NUL would truncate the name in C servers behind the gateway (OpenSSL refuses it), and
            // control or 8-bit bytes never appear in a DNS or Consul name (IDNs travel as xn-- A-labels).
            if (message.ContainsNonPrintableAscii(p, nameLength))
            {
                return ClientHelloInvalidReason.HostNameInvalidCharacter;
            }

            hello._serverNameOffset = p;
            hello._serverNameLength = nameLength;
            hello._hasServerName = true;
            p += nameLength;
        }

        return ClientHelloInvalidReason.None;
    }
}
