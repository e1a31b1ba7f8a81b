using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mesh.Sni.ClientHello;

/// <summary>A handshake message that lies whole in one span of the input: every read is a read of that span.</summary>
/// <remarks>
/// The fixed-size reads are not bounds-checked again: the grammar checks every length against <see cref="Length"/> before
/// it reads (the contract of <see cref="IHandshakeMessage"/>), and a span check on each of them, one the compiler cannot
/// prove away, was a tenth of a parse. The contract is tested: the grammar runs over a message that refuses any read
/// outside it, for every capture and for random hellos and mutations of them (<c>ClientHelloGrammarBoundsTests</c>).
/// </remarks>
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
    public byte ReadUInt8(int offset) => At(offset, sizeof(byte));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadUInt16(int offset) => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(ref At(offset, sizeof(ushort))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ReadUInt32(int offset) => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<uint>(ref At(offset, sizeof(uint))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ExtensionEnd(int offset, uint header)
    {
        // The extension walk is a chain: each header's length gives the next header's offset, so this sum is on it. Most
        // extensions are shorter than 256 bytes, and for them the end follows from the length's low byte, read on its own:
        // a byte load and an add, where the whole header also waits for its byte swap and for its type to be masked off. A
        // longer extension takes the branch, which does not hold up the chain while it is predicted. The byte read is
        // the header's fourth, inside it as the grammar has checked.
        int end = offset + 4 + Unsafe.Add(ref At(offset, sizeof(uint)), 3);
        if ((header & 0xff00) != 0)
        {
            end = offset + 4 + (int)(header & 0xffff);
        }

        return end;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> ReadRun(int offset, int maxLength) => _bytes.Slice(offset, maxLength);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ContainsNonPrintableAscii(int offset, int length) => PrintableAscii.ContainsAnyOther(_bytes, offset, length);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref byte At(int offset, int size)
    {
        Debug.Assert(offset >= 0 && offset <= _bytes.Length - size, "The grammar checks a length before it reads.");
        return ref Unsafe.Add(ref MemoryMarshal.GetReference(_bytes), (nint)(uint)offset);
    }
}
