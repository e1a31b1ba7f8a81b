using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// The byte check a host name passes: printable ASCII (0x20–0x7e) only. Host names are at most 255 bytes, mostly 10 to 80:
/// a span method that scales to megabytes spends more on its set-up, and on 512-bit compares into mask registers where
/// the hardware has them, than on the bytes themselves.
/// </summary>
internal static class PrintableAscii
{
    private const ulong HighBits = 0x8080_8080_8080_8080;
    private const ulong Ones = 0x0101_0101_0101_0101;

    /// <summary>
    /// Whether any byte of <paramref name="message"/>'s <paramref name="length"/> bytes from <paramref name="offset"/> lies
    /// outside 0x20–0x7e. The bytes of the message before them may be read, never judged.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the server_name rule, itself inlined into the extension walk
    internal static bool ContainsAnyOther(ReadOnlySpan<byte> message, int offset, int length)
    {
        Debug.Assert((uint)offset <= (uint)message.Length && (uint)length <= (uint)(message.Length - offset));
        int end = offset + length;
        ref byte start = ref Unsafe.Add(ref MemoryMarshal.GetReference(message), (nuint)(uint)offset);

        // Host names up to 128 bytes, nearly all of them (a Consul name with a UUID trust domain is 70 to 80), take a fixed
        // number of blocks by their length, where a loop would test and branch per block. A name shorter than a block is
        // judged with one block that ends where it ends: a name sits well into its hello, so the block starts inside the
        // message, and the lanes before the name are read but drop out of the answer.
        if (Vector256.IsHardwareAccelerated)
        {
            const int Block = 32;
            if (length < Block && end >= Block)
            {
                ulong printable = Vector256.GreaterThan(Shifted(Vector256.LoadUnsafe(ref Unsafe.Subtract(ref start, Block - length))), Vector256.Create((sbyte)0x20))
                    .ExtractMostSignificantBits();
                return (~printable & uint.MaxValue) >> (Block - length) != 0;
            }

            if (length >= Block && length <= 2 * Block)
            {
                Vector256<sbyte> smallest = Vector256.Min(
                    Shifted(Vector256.LoadUnsafe(ref start)),
                    Shifted(Vector256.LoadUnsafe(ref start, (nuint)(length - Block))));
                return !Vector256.GreaterThanAll(smallest, Vector256.Create((sbyte)0x20));
            }

            if (length > 2 * Block && length <= 4 * Block)
            {
                Vector256<sbyte> smallest = Vector256.Min(
                    Vector256.Min(Shifted(Vector256.LoadUnsafe(ref start)), Shifted(Vector256.LoadUnsafe(ref start, Block))),
                    Vector256.Min(Shifted(Vector256.LoadUnsafe(ref start, (nuint)(length - (2 * Block)))), Shifted(Vector256.LoadUnsafe(ref start, (nuint)(length - Block)))));
                return !Vector256.GreaterThanAll(smallest, Vector256.Create((sbyte)0x20));
            }
        }

        return ContainsAnyOther(message.Slice(offset, length));
    }

    /// <summary>Whether any byte of <paramref name="bytes"/> lies outside 0x20–0x7e.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the server_name rule, itself inlined into the extension walk
    internal static bool ContainsAnyOther(ReadOnlySpan<byte> bytes)
    {
        ref byte start = ref MemoryMarshal.GetReference(bytes);
        int length = bytes.Length;

        // A byte b is printable when (sbyte)(b + 1) > 0x20: b + 1 takes 0x20–0x7e to 0x21–0x7f, and every other byte to
        // 0x00–0x20 or, read as signed, below zero. The smallest lane of all blocks answers for every byte; the last block
        // overlaps the one before it rather than leaving a tail.
        if (Vector256.IsHardwareAccelerated && length >= Vector256<byte>.Count)
        {
            Vector256<sbyte> smallest = Vector256.Create(sbyte.MaxValue);
            int last = length - Vector256<byte>.Count;
            for (int i = 0; i < last; i += Vector256<byte>.Count)
            {
                smallest = Vector256.Min(smallest, Shifted(Vector256.LoadUnsafe(ref start, (nuint)i)));
            }

            smallest = Vector256.Min(smallest, Shifted(Vector256.LoadUnsafe(ref start, (nuint)last)));
            return !Vector256.GreaterThanAll(smallest, Vector256.Create((sbyte)0x20));
        }

        if (Vector128.IsHardwareAccelerated && length >= Vector128<byte>.Count)
        {
            Vector128<sbyte> smallest = Vector128.Create(sbyte.MaxValue);
            int last = length - Vector128<byte>.Count;
            for (int i = 0; i < last; i += Vector128<byte>.Count)
            {
                smallest = Vector128.Min(smallest, Shifted(Vector128.LoadUnsafe(ref start, (nuint)i)));
            }

            smallest = Vector128.Min(smallest, Shifted(Vector128.LoadUnsafe(ref start, (nuint)last)));
            return !Vector128.GreaterThanAll(smallest, Vector128.Create((sbyte)0x20));
        }

        if (length >= sizeof(ulong))
        {
            ulong outside = 0;
            int last = length - sizeof(ulong);
            for (int i = 0; i < last; i += sizeof(ulong))
            {
                outside |= Outside(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)));
            }

            return (outside | Outside(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, last)))) != 0;
        }

        for (int i = 0; i < length; i++)
        {
            if ((uint)(Unsafe.Add(ref start, i) - 0x20) > 0x7e - 0x20)
            {
                return true;
            }
        }

        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Shifted(Vector256<byte> block) => (block + Vector256<byte>.One).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> Shifted(Vector128<byte> block) => (block + Vector128<byte>.One).AsSByte();

    /// <summary>The high bit of each byte of <paramref name="word"/> that lies outside 0x20–0x7e, in any byte order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Outside(ulong word)
    {
        // On the low seven bits y of each byte no sum carries into the next byte: y + 0x60 reaches 0x80 when y >= 0x20,
        // y + 1 when y is 0x7f; a set high bit is outside on its own.
        ulong low = word & ~HighBits;
        ulong printableFloor = (low + (0x60 * Ones)) & HighBits;
        ulong delete = (low + Ones) & HighBits;
        return (word & HighBits) | (printableFloor ^ HighBits) | delete;
    }
}
