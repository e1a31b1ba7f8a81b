using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mesh.Sni.Routing;

/// <summary>
/// Hashes a DNS name or one of its suffixes, folding ASCII case as it reads so the name is never copied to lower case.
/// </summary>
/// <remarks>
/// Two independent lanes take eight bytes each per step, so the multiplications of one lane overlap those of the other: a
/// 70-byte Consul name costs five steps. A name shorter than eight bytes is read as one zero-padded word. The hash depends
/// only on the bytes and their count, so a suffix of a server name hashes as the same text given as a wildcard pattern.
/// </remarks>
internal static class SniNameHash
{
    private const ulong Prime1 = 0x9E3779B185EBCA87UL;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong Prime3 = 0x165667B19E3779F9UL;
    private const ulong Prime4 = 0x85EBCA77C2B2AE63UL;

    /// <summary>The case-folded hash of <paramref name="name"/>.</summary>
    internal static ulong Hash(ReadOnlySpan<byte> name)
    {
        ref byte start = ref MemoryMarshal.GetReference(name);
        int length = name.Length;
        ulong first = Prime3 ^ ((ulong)length * Prime4);
        ulong second = Prime4;

        if (length >= sizeof(ulong))
        {
            int i = 0;
            for (; length - i >= 2 * sizeof(ulong); i += 2 * sizeof(ulong))
            {
                first = Round(first, ReadFolded(ref start, i));
                second = Round(second, ReadFolded(ref start, i + sizeof(ulong)));
            }

            if (length - i >= sizeof(ulong))
            {
                first = Round(first, ReadFolded(ref start, i));
                i += sizeof(ulong);
            }

            if (i < length)
            {
                // The last eight bytes, overlapping what was read: the same bytes always give the same word.
                second = Round(second, ReadFolded(ref start, length - sizeof(ulong)));
            }
        }
        else
        {
            ulong word = 0;
            for (int i = 0; i < length; i++)
            {
                word |= (ulong)Unsafe.Add(ref start, i) << (8 * i);
            }

            first = Round(first, word & ~CaseBits);
        }

        ulong hash = first ^ BitOperations.RotateLeft(second, 27);
        hash ^= hash >> 33;
        hash *= Prime2;
        return hash ^ (hash >> 29);
    }

    // Clearing bit 0x20 of every byte folds ASCII case in one instruction. It also folds a few printable pairs that are not
    // letters ('[' and '{', '@' and '`'...), which costs nothing but a rare hash collision: the table compares the names.
    private const ulong CaseBits = 0x2020202020202020UL;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong ReadFolded(ref byte start, int offset) =>
        BinaryPrimitives.ReadUInt64LittleEndian(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref start, offset), sizeof(ulong))) & ~CaseBits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Round(ulong lane, ulong word) => BitOperations.RotateLeft(lane + (word * Prime2), 31) * Prime1;
}
