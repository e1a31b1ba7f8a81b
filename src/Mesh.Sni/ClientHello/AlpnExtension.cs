using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>The application_layer_protocol_negotiation extension (RFC 7301 §3.1).</summary>
[SkipLocalsInit]
internal static class AlpnExtension
{
    /// <summary>Checks an ALPN extension and remembers where its list is.</summary>
    /// <remarks>
    /// RFC 7301 §3.1:
    /// <code>
    /// opaque ProtocolName&lt;1..2^8-1&gt;;
    ///
    /// struct {
    ///     ProtocolName protocol_name_list&lt;2..2^16-1&gt;
    /// } ProtocolNameList;
    /// </code>
    /// </remarks>
    /// <typeparam name="TMessage">How the message lies in the input.</typeparam>
    /// <param name="message">The handshake message.</param>
    /// <param name="offset">Where the extension_data starts.</param>
    /// <param name="length">The extension_data length, checked against the message.</param>
    /// <param name="hello">Receives the list's offset, length and count.</param>
    /// <returns>The broken rule, or none.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the extension walk, which then makes no call (see ClientHelloExtensions)
    internal static ClientHelloInvalidReason Parse<TMessage>(scoped TMessage message, int offset, int length, ref ClientHelloInfo hello)
        where TMessage : IHandshakeMessage, allows ref struct
    {
        if (length < 2)
        {
            return ClientHelloInvalidReason.AlpnListTruncated;
        }

        int listLength = message.ReadUInt16(offset);
        if (listLength != length - 2)
        {
            return ClientHelloInvalidReason.AlpnListLengthMismatch;
        }

        if (listLength == 0)
        {
            return ClientHelloInvalidReason.AlpnListEmpty;
        }

        // A run at a time (all of the list over one span; as it lies in records and segments otherwise): a name's length
        // byte says where the next one starts, so a name that runs on past a run only carries its remaining bytes over.
        int count = 0;
        int carry = 0;
        for (int p = offset + 2, left = listLength; left > 0;)
        {
            ReadOnlySpan<byte> run = message.ReadRun(p, left);
            if (run.IsEmpty)
            {
                return ClientHelloInvalidReason.AlpnProtocolOverrun;
            }

            int next = carry;
            while (next < run.Length)
            {
                int nameLength = run[next];
                if (nameLength == 0)
                {
                    return ClientHelloInvalidReason.AlpnEmptyProtocolName;
                }

                next += 1 + nameLength;
                count++;
            }

            carry = next - run.Length;
            p += run.Length;
            left -= run.Length;
        }

        // Only the last name can run past the list's end: nothing of the list follows it.
        if (carry > 0)
        {
            return ClientHelloInvalidReason.AlpnProtocolOverrun;
        }

        hello._alpnOffset = offset + 2;
        hello._alpnLength = listLength;
        hello._alpnCount = count;
        return ClientHelloInvalidReason.None;
    }
}
