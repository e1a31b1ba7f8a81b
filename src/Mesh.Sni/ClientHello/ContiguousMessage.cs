using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>A handshake message that lies whole in one span of the input: every read is a span read.</summary>
internal readonly ref struct ContiguousMessage : IHandshakeMessage
{
    private readonly ReadOnlySpan<byte> _bytes;

    internal ContiguousMessage(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    public int Length
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _bytes.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadUInt8(int offset) => _bytes[offset];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadUInt16(int offset) => BinaryPrimitives.ReadUInt16BigEndian(_bytes[offset..]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ReadUInt32(int offset) => BinaryPrimitives.ReadUInt32BigEndian(_bytes[offset..]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> ReadRun(int offset, int maxLength) => _bytes.Slice(offset, maxLength);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ContainsNonPrintableAscii(int offset, int length) =>
        PrintableAscii.ContainsAnyOther(_bytes.Slice(offset, length));
}
