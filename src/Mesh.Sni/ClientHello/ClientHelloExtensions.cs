using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>The extensions block of a ClientHello: each extension's frame, the uniqueness of types and the place of pre_shared_key.</summary>
internal static class ClientHelloExtensions
{
    /// <summary>Walks the extensions, parsing the ones a gateway needs and refusing a repeated type.</summary>
    /// <remarks>
    /// RFC 8446 §4.2 ("There MUST NOT be more than one extension of the same type in a given extension block"):
    /// <code>
    /// struct {
    ///     ExtensionType extension_type;
    ///     opaque extension_data&lt;0..2^16-1&gt;;
    /// } Extension;
    /// </code>
    /// RFC 8446 §4.2.11: "The "pre_shared_key" extension MUST be the last extension in the ClientHello ... Servers MUST check
    /// that it is the last extension". The walk notes where it met it and checks once at the end, so a hello without it pays
    /// one bit test.
    /// </remarks>
    /// <param name="block">The extensions block, exactly: it ends where the message ends.</param>
    /// <param name="blockOffset">The handshake-stream offset of <paramref name="block"/>, for what is read later by offset.</param>
    /// <param name="hello">Receives what the known extensions say.</param>
    /// <returns>The broken rule, or none.</returns>
    internal static ClientHelloInvalidReason Parse(scoped ReadOnlySpan<byte> block, int blockOffset, ref ClientHelloInfo hello)
    {
        // Not zeroed ([SkipLocalsInit] on the module): the set writes each list slot before reading it.
        Unsafe.SkipInit(out ExtensionTypeSet seen);
        seen.Reset();
        int count = 0;
        int preSharedKeyPosition = 0;

        int i = 0;
        while (i < block.Length)
        {
            if (block.Length - i < 4)
            {
                return ClientHelloInvalidReason.ExtensionHeaderTruncated;
            }

            uint header = BinaryPrimitives.ReadUInt32BigEndian(block[i..]);
            ushort type = (ushort)(header >> 16);
            int length = (int)(header & 0xffff);
            i += 4;
            if (block.Length - i < length)
            {
                return ClientHelloInvalidReason.ExtensionOverrun;
            }

            if (!seen.TryAdd(type))
            {
                return ClientHelloInvalidReason.DuplicateExtension;
            }

            count++;
            ClientHelloInvalidReason reason = type switch
            {
                TlsWire.ExtensionServerName => ServerNameExtension.Parse(block.Slice(i, length), blockOffset + i, ref hello),
                TlsWire.ExtensionAlpn => AlpnExtension.Parse(block.Slice(i, length), blockOffset + i, ref hello),
                TlsWire.ExtensionSupportedVersions => SupportedVersionsExtension.Parse(block.Slice(i, length), blockOffset + i, ref hello),
                _ => ClientHelloInvalidReason.None,
            };

            if (reason != ClientHelloInvalidReason.None)
            {
                return reason;
            }

            if (type == TlsWire.ExtensionPreSharedKey)
            {
                preSharedKeyPosition = count;
            }
            else if (type == TlsWire.ExtensionEncryptedClientHello)
            {
                hello._hasEncryptedClientHello = true;
            }

            i += length;
        }

        if (preSharedKeyPosition != 0 && preSharedKeyPosition != count)
        {
            return ClientHelloInvalidReason.PreSharedKeyNotLast;
        }

        hello._extensionCount = count;
        return ClientHelloInvalidReason.None;
    }
}
