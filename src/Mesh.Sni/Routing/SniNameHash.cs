using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.Routing;

/// <summary>
/// Hashes a DNS name, folding ASCII case as it reads (no lower-cased copy), label by label from the right, so that one pass over the name yields the hash of the name and
/// of every suffix that starts after a dot: a wildcard lookup costs one probe per label, however many routes there are.
/// </summary>
[SkipLocalsInit]
internal static class SniNameHash
{
    // 255 bytes of dots are 256 empty labels.
    internal const int MaxLabels = 256;

    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong Prime3 = 0x165667B19E3779F9UL;

    /// <summary>
    /// Fills <paramref name="suffixStarts"/> and <paramref name="suffixHashes"/> from the shortest suffix (the last label) to
    /// the whole name, and returns how many there are (the label count).
    /// </summary>
    internal static int HashSuffixes(ReadOnlySpan<byte> name, Span<int> suffixStarts, Span<ulong> suffixHashes)
    {
        // Every dot at once, sixteen bytes a step, instead of one search per label.
        Span<int> dots = stackalloc int[MaxLabels];
        int dotCount = 0;
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<byte> dot = Vector128.Create((byte)'.');
            for (; name.Length - i >= Vector128<byte>.Count; i += Vector128<byte>.Count)
            {
                uint mask = Vector128.Equals(Vector128.Create(name.Slice(i, Vector128<byte>.Count)), dot).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    dots[dotCount++] = i + BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                }
            }
        }

        for (; i < name.Length; i++)
        {
            if (name[i] == (byte)'.')
            {
                dots[dotCount++] = i;
            }
        }

        // Right to left: suffix k is the last k + 1 labels.
        ulong hash = Prime3;
        int end = name.Length;
        for (int k = dotCount - 1; k >= -1; k--)
        {
            int start = k >= 0 ? dots[k] + 1 : 0;
            hash = Combine(hash, HashLabel(name, start, end));
            suffixStarts[dotCount - 1 - k] = start;
            suffixHashes[dotCount - 1 - k] = hash;
            end = start - 1;
        }

        return dotCount + 1;
    }

    /// <summary>The hash of a whole name, equal to the last value <see cref="HashSuffixes"/> gives for it.</summary>
    internal static ulong HashName(ReadOnlySpan<byte> name)
    {
        Span<int> starts = stackalloc int[MaxLabels];
        Span<ulong> hashes = stackalloc ulong[MaxLabels];
        int count = HashSuffixes(name, starts, hashes);
        return hashes[count - 1];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Combine(ulong suffix, ulong label)
    {
        ulong h = (suffix ^ label) * Prime1;
        return h ^ (h >> 31);
    }

    private static ulong HashLabel(ReadOnlySpan<byte> name, int start, int end)
    {
        ulong h = (ulong)(end - start) * Prime2;
        int p = start;
        while (end - p >= 8)
        {
            h = BitOperations.RotateLeft((h ^ ToLower(BinaryPrimitives.ReadUInt64LittleEndian(name[p..]))) * Prime1, 29);
            p += 8;
        }

        int rest = end - p;
        ulong tail = 0;
        if (rest > 0 && end >= 8)
        {
            // The last eight bytes of the name up to here, shifted so only the label's own tail bytes remain: the same
            // value the byte loop gives, without the loop.
            tail = BinaryPrimitives.ReadUInt64LittleEndian(name[(end - 8)..]) >> (8 * (8 - rest));
        }
        else
        {
            for (int i = 0; i < rest; i++)
            {
                tail |= (ulong)name[p + i] << (8 * i);
            }
        }

        h = (h ^ ToLower(tail)) * Prime2;
        return h ^ (h >> 29);
    }

    /// <summary>Sets bit 0x20 of every byte in 'A'..'Z' of eight bytes at once; other bytes, 8-bit ones included, are kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong ToLower(ulong bytes)
    {
        const ulong Ones = 0x0101010101010101UL;
        ulong seven = bytes & (0x7F * Ones);
        ulong atLeastA = seven + ((0x80 - 'A') * Ones);
        ulong aboveZ = seven + ((0x80 - 'Z' - 1) * Ones);
        ulong upper = atLeastA & ~aboveZ & ~bytes & (0x80 * Ones);
        return bytes | (upper >> 2);
    }
}
