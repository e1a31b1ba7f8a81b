using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>The extensions block of a ClientHello: each extension's frame, the uniqueness of types and the place of pre_shared_key.</summary>
[SkipLocalsInit]
internal static class ClientHelloExtensions
{
    // The types below 64 with a rule of their own (the walk reads more of them than their header).
    private const ulong ReadPastHeader = (1UL << TlsWire.ExtensionServerName) | (1UL << TlsWire.ExtensionAlpn)
        | (1UL << TlsWire.ExtensionPreSharedKey) | (1UL << TlsWire.ExtensionSupportedVersions);

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
    /// <typeparam name="TMessage">How the message lies in the input.</typeparam>
    /// <param name="message">The handshake message.</param>
    /// <param name="blockOffset">Where the extensions block starts; it ends where the message ends.</param>
    /// <param name="hello">Receives what the known extensions say.</param>
    /// <returns>The broken rule, or none.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the grammar's one frame (ClientHelloBody): left to the JIT, it was inlined or not as the code around it changed
    internal static ClientHelloInvalidReason Parse<TMessage>(scoped TMessage message, int blockOffset, ref ClientHelloInfo hello)
        where TMessage : IHandshakeMessage, allows ref struct
    {
        // Registered types below 64 (server_name 0 to key_share 51, most of any hello) take one exact bit of a local, which
        // stays in a register; the others go to the set, not zeroed ([SkipLocalsInit]): it writes each slot before reading it.
        // The local starts with the bits of the types that have a rule: one test then passes over a type seen for the first
        // time and without a rule, most of a hello, and sends a repeated one or one with a rule to the rest of the loop,
        // where the set keeps which of the latter were met.
        // The walk is a chain of loads, each header's length giving the next header's offset, so that offset must stay in a
        // register. Over one span the rules are inlined and no call is left on the usual path; the values live across the
        // loop (the message, the hello, the bits and the offset) fit the callee-saved registers, and anything more (the
        // rule types met, the pre_shared_key's end, the end of the last whole header) lives in the set or is recomputed:
        // one value more and the offset went to the stack, a store and a reload on the chain at every extension. A data
        // length past the block is found when the next header is due, or before a rule reads the data or a type is
        // refused as repeated, so the fault named is the one named before.
        ulong stop = ReadPastHeader;
        Unsafe.SkipInit(out ExtensionTypeSet seen);
        seen.Reset();

        int i = blockOffset;
        while (i + 4 <= message.Length)
        {
            uint header = message.ReadUInt32(i);
            int type = (int)(header >> 16);
            int length = (int)(header & 0xffff);
            i = message.ExtensionEnd(i, header);

            if (type < 64)
            {
                ulong bit = 1UL << type;
                if ((stop & bit) == 0)
                {
                    stop |= bit;
                    continue;
                }

                if ((ReadPastHeader & bit) == 0 || (seen.RuleTypes & bit) != 0)
                {
                    return i > message.Length ? ClientHelloInvalidReason.ExtensionOverrun : ClientHelloInvalidReason.DuplicateExtension;
                }

                seen.RuleTypes |= bit;
                if (i > message.Length)
                {
                    return ClientHelloInvalidReason.ExtensionOverrun;
                }

                ClientHelloInvalidReason reason = ClientHelloInvalidReason.None;
                switch (type)
                {
                    case TlsWire.ExtensionServerName:
                        reason = ServerNameExtension.Parse(message, i - length, length, ref hello);
                        break;
                    case TlsWire.ExtensionAlpn:
                        reason = AlpnExtension.Parse(message, i - length, length, ref hello);
                        break;
                    case TlsWire.ExtensionSupportedVersions:
                        reason = SupportedVersionsExtension.Parse(message, i - length, length, ref hello);
                        break;
                    case TlsWire.ExtensionPreSharedKey:
                        seen.PreSharedKeyEnd = i;
                        break;
                }

                if (reason != ClientHelloInvalidReason.None)
                {
                    return reason;
                }
            }
            else
            {
                if (i > message.Length)
                {
                    return ClientHelloInvalidReason.ExtensionOverrun;
                }

                if (type == TlsWire.ExtensionEncryptedClientHello)
                {
                    hello._hasEncryptedClientHello = true;
                }

                if (!seen.TryAdd((ushort)type))
                {
                    return ClientHelloInvalidReason.DuplicateExtension;
                }
            }
        }

        if (i != message.Length)
        {
            return i > message.Length ? ClientHelloInvalidReason.ExtensionOverrun : ClientHelloInvalidReason.ExtensionHeaderTruncated;
        }

        // pre_shared_key is last when it ends the block; the check waits for the walk, so any other fault outranks it.
        if ((seen.RuleTypes & (1UL << TlsWire.ExtensionPreSharedKey)) != 0 && seen.PreSharedKeyEnd != message.Length)
        {
            return ClientHelloInvalidReason.PreSharedKeyNotLast;
        }

        hello._extensionCount = BitOperations.PopCount(stop & ~ReadPastHeader) + BitOperations.PopCount(seen.RuleTypes) + seen.Count;
        return ClientHelloInvalidReason.None;
    }
}
