using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.Routing;

/// <summary>
/// Hashes a lower-case DNS name label by label from the right, so that one pass over the name yields the hash of the name and
/// of every suffix that starts after a dot: a wildcard lookup costs one probe per label, however many routes there are.
/// </summary>
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
        ulong hash = Prime3;
        int count = 0;
        int end = name.Length;
        while (true)
        {
            int dot = name[..end].LastIndexOf((byte)'.');
            hash = Combine(hash, HashLabel(name[(dot + 1)..end]));
            suffixStarts[count] = dot + 1;
            suffixHashes[count] = hash;
            count++;
            if (dot < 0)
            {
                return count;
            }

            end = dot;
        }
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

    private static ulong HashLabel(ReadOnlySpan<byte> label)
    {
        ulong h = (ulong)label.Length * Prime2;
        while (label.Length >= 8)
        {
            h = BitOperations.RotateLeft((h ^ BinaryPrimitives.ReadUInt64LittleEndian(label)) * Prime1, 29);
            label = label[8..];
        }

        ulong tail = 0;
        for (int i = 0; i < label.Length; i++)
        {
            tail |= (ulong)label[i] << (8 * i);
        }

        h = (h ^ tail) * Prime2;
        return h ^ (h >> 29);
    }
}
