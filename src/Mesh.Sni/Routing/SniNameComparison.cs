using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mesh.Sni.Routing;

/// <summary>Compares a server name in any ASCII case with a name stored lower case.</summary>
/// <remarks>
/// Only <c>A</c>–<c>Z</c> fold (RFC 4343 §3: DNS compares ASCII letters without case and every other byte as it is), so
/// <c>[</c> never equals <c>{</c> and a byte above 0x7F equals only itself. The stored name is known to be lower case, so
/// only the server name is folded, 32 bytes a step; the last step reads the last 32 bytes, overlapping what was read before,
/// so a name of any length from 32 to 255 bytes costs at most eight steps and never reads past either name.
/// </remarks>
internal static class SniNameComparison
{
    /// <summary>
    /// Whether <paramref name="name"/>, letters folded to lower case, equals as many bytes at <paramref name="lowerCase"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool EqualsLowerCase(ReadOnlySpan<byte> name, ref byte lowerCase)
    {
        ref byte start = ref MemoryMarshal.GetReference(name);
        int length = name.Length;
        if (Vector256.IsHardwareAccelerated && length >= Vector256<byte>.Count)
        {
            // The differences of every step are gathered and tested once, at the end: one branch, not one a step.
            int last = length - Vector256<byte>.Count;
            Vector256<byte> differences = Vector256<byte>.Zero;
            for (int i = 0; i < last; i += Vector256<byte>.Count)
            {
                differences |= Fold(Vector256.LoadUnsafe(ref start, (nuint)i)) ^ Vector256.LoadUnsafe(ref lowerCase, (nuint)i);
            }

            differences |= Fold(Vector256.LoadUnsafe(ref start, (nuint)last)) ^ Vector256.LoadUnsafe(ref lowerCase, (nuint)last);
            return differences == Vector256<byte>.Zero;
        }

        if (Vector128.IsHardwareAccelerated && length >= Vector128<byte>.Count)
        {
            int last = length - Vector128<byte>.Count;
            Vector128<byte> differences = Vector128<byte>.Zero;
            for (int i = 0; i < last; i += Vector128<byte>.Count)
            {
                differences |= Fold(Vector128.LoadUnsafe(ref start, (nuint)i)) ^ Vector128.LoadUnsafe(ref lowerCase, (nuint)i);
            }

            differences |= Fold(Vector128.LoadUnsafe(ref start, (nuint)last)) ^ Vector128.LoadUnsafe(ref lowerCase, (nuint)last);
            return differences == Vector128<byte>.Zero;
        }

        return EqualBytes(ref start, ref lowerCase, length);
    }

    /// <summary>
    /// The first <paramref name="length"/> bytes of <paramref name="name"/> (one to eight, at most its length), letters
    /// folded to lower case, as a little-endian word padded with zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ReadHead(ReadOnlySpan<byte> name, int length)
    {
        ulong word = 0;
        if (name.Length >= sizeof(ulong))
        {
            word = BinaryPrimitives.ReadUInt64LittleEndian(name);
        }
        else
        {
            for (int i = 0; i < name.Length; i++)
            {
                word |= (ulong)name[i] << (8 * i);
            }
        }

        return ToLower(word & (ulong.MaxValue >> (8 * (sizeof(ulong) - length))));
    }

    /// <summary>The eight bytes of <paramref name="word"/> with <c>A</c>–<c>Z</c> folded to lower case, the others as they are.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ToLower(ulong word)
    {
        const ulong Ones = 0x0101010101010101UL;
        // Each byte's low seven bits plus a constant sets its high bit when the byte is at least 'A' (or above 'Z'); the sums
        // stay below 256, so no byte carries into the next. A byte whose own high bit is set is not a letter.
        ulong sevenBits = word & (0x7F * Ones);
        ulong atLeastA = sevenBits + ((0x80 - 'A') * Ones);
        ulong aboveZ = sevenBits + ((0x80 - 'Z' - 1) * Ones);
        ulong letters = atLeastA & ~aboveZ & ~word & (0x80 * Ones);
        return word | (letters >> 2);
    }

    // Adding 0x80 - 'A' moves 'A'..'Z', and only them, to the 26 lowest signed bytes: one signed comparison finds the letters
    // (a signed byte comparison is one instruction everywhere; an unsigned one is not).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Fold(Vector256<byte> bytes)
    {
        Vector256<sbyte> moved = (bytes + Vector256.Create((byte)(0x80 - 'A'))).AsSByte();
        Vector256<byte> letters = Vector256.LessThan(moved, Vector256.Create((sbyte)(sbyte.MinValue + 26))).AsByte();
        return bytes | (letters & Vector256.Create((byte)0x20));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Fold(Vector128<byte> bytes)
    {
        Vector128<sbyte> moved = (bytes + Vector128.Create((byte)(0x80 - 'A'))).AsSByte();
        Vector128<byte> letters = Vector128.LessThan(moved, Vector128.Create((sbyte)(sbyte.MinValue + 26))).AsByte();
        return bytes | (letters & Vector128.Create((byte)0x20));
    }

    private static bool EqualBytes(ref byte name, ref byte lowerCase, int length)
    {
        for (int i = 0; i < length; i++)
        {
            uint b = Unsafe.Add(ref name, i);
            if ((b - 'A' < 26u ? b | 0x20 : b) != Unsafe.Add(ref lowerCase, i))
            {
                return false;
            }
        }

        return true;
    }
}
