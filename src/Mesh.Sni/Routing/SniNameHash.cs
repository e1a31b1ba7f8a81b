using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mesh.Sni.Routing;

/// <summary>
/// Hashes a DNS name or one of its suffixes, folding ASCII case as it reads so the name is never copied to lower case.
/// </summary>
/// <remarks>
/// <para>
/// Each sixteen bytes are mixed on their own, by one 64×64→128-bit multiplication of their two halves, each half first
/// combined with a key; the products are summed, each sum rotated before the next is added so that position counts, and the
/// sum is mixed once more with the length.
/// The multiplications do not wait on one another, so a 70-byte Consul name costs about as long as one multiplication and
/// the final mix, not five rounds one after the other: the lookup that needs the hash to find its slot starts that much
/// sooner. The last sixteen bytes are read overlapping what was read before, so every length runs the same few steps.
/// </para>
/// <para>
/// The hash depends only on the bytes and their count, so a suffix of a server name hashes as the same text given as a
/// wildcard pattern. It is not a defence against names chosen to collide: the routes come from the operator's catalog, and a
/// collision costs a lookup one more name comparison, never a wrong route.
/// </para>
/// </remarks>
internal static class SniNameHash
{
    private const ulong Key1 = 0x9E3779B185EBCA87UL;
    private const ulong Key2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong Key3 = 0x165667B19E3779F9UL;
    private const ulong Key4 = 0x85EBCA77C2B2AE63UL;
    private const ulong Key5 = 0x27D4EB2F165667C5UL;

    // Clearing bit 0x20 of every byte folds ASCII case in one instruction. It also folds a few printable pairs that are not
    // letters ('[' and '{', '@' and '`'...), which costs nothing but a rare hash collision: the table compares the names.
    private const ulong CaseBits = 0x2020202020202020UL;

    /// <summary>The case-folded hash of <paramref name="name"/>.</summary>
    internal static ulong Hash(ReadOnlySpan<byte> name)
    {
        ref byte start = ref MemoryMarshal.GetReference(name);
        int length = name.Length;
        ulong sum;
        if (length > 16)
        {
            // Each step rotates what came before, so the same sixteen bytes count differently at another position; the
            // rotation waits on the sum, not on a multiplication.
            sum = 0;
            int last = length - 16;
            for (int i = 0; i < last; i += 16)
            {
                sum = BitOperations.RotateLeft(sum, 29) + Mix(Read64(ref start, i) ^ Key1, Read64(ref start, i + 8) ^ Key2);
            }

            // The last sixteen bytes, overlapping what was read: the same bytes always give the same words.
            sum = BitOperations.RotateLeft(sum, 29) + Mix(Read64(ref start, last) ^ Key3, Read64(ref start, last + 8) ^ Key4);
        }
        else if (length >= 8)
        {
            sum = Mix(Read64(ref start, 0) ^ Key1, Read64(ref start, length - 8) ^ Key2);
        }
        else if (length >= 4)
        {
            sum = Mix(Read32(ref start, 0) ^ Key1, Read32(ref start, length - 4) ^ Key2);
        }
        else
        {
            // One to three bytes: the first, the middle and the last, as wyhash reads them.
            ulong word = length == 0 ? 0 : ((ulong)start << 16) | ((ulong)Unsafe.Add(ref start, length >> 1) << 8) | Unsafe.Add(ref start, length - 1);
            sum = Mix((word & ~CaseBits) ^ Key1, Key2);
        }

        return Mix(sum ^ Key5, (ulong)length ^ Key1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read64(ref byte start, int offset) =>
        BinaryPrimitives.ReadUInt64LittleEndian(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref start, offset), sizeof(ulong))) & ~CaseBits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Read32(ref byte start, int offset) =>
        BinaryPrimitives.ReadUInt32LittleEndian(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref start, offset), sizeof(uint))) & (uint)(~CaseBits & uint.MaxValue);

    // The high and low halves of the full product, folded: every input bit reaches most output bits (wyhash's "mum").
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong a, ulong b)
    {
        UInt128 product = Math.BigMul(a, b);
        return (ulong)(product >> 64) ^ (ulong)product;
    }
}
