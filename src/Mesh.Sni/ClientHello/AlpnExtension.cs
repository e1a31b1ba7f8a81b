using System.Buffers.Binary;
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
    /// <param name="data">The extension_data, exactly.</param>
    /// <param name="dataOffset">The handshake-stream offset of <paramref name="data"/>.</param>
    /// <param name="hello">Receives the list's offset, length and count.</param>
    /// <returns>The broken rule, or none.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // once per hello: inlined, it would crowd the extension walk out of its registers
    internal static ClientHelloInvalidReason Parse(scoped ReadOnlySpan<byte> data, int dataOffset, ref ClientHelloInfo hello)
    {
        if (data.Length < 2)
        {
            return ClientHelloInvalidReason.AlpnListTruncated;
        }

        int listLength = BinaryPrimitives.ReadUInt16BigEndian(data);
        if (listLength != data.Length - 2)
        {
            return ClientHelloInvalidReason.AlpnListLengthMismatch;
        }

        if (listLength == 0)
        {
            return ClientHelloInvalidReason.AlpnListEmpty;
        }

        int count = 0;
        for (int p = 2; p < data.Length;)
        {
            int nameLength = data[p];
            if (nameLength == 0)
            {
                return ClientHelloInvalidReason.AlpnEmptyProtocolName;
            }

            if (data.Length - p - 1 < nameLength)
            {
                return ClientHelloInvalidReason.AlpnProtocolOverrun;
            }

            p += 1 + nameLength;
            count++;
        }

        hello._alpnOffset = dataOffset + 2;
        hello._alpnLength = listLength;
        hello._alpnCount = count;
        return ClientHelloInvalidReason.None;
    }
}
