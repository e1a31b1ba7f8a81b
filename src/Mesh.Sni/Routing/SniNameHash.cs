using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Mesh.Sni.Routing;

/// <summary>
/// Hashes a DNS name or one of its suffixes, folding ASCII case as it reads so the name is never copied to lower case.
/// </summary>
/// <remarks>
/// <para>
/// The name is read sixteen bytes a step from its end, and each sixteen bytes are mixed on their own by one 64×64→128-bit
/// multiplication of their two halves; each step rotates the sum of the steps before it and adds its product, so position
/// counts while the multiplications never wait on one another: a 70-byte Consul name costs about as long as two
/// multiplications, not five rounds in a chain. The first sixteen bytes close the sum (read overlapping the last step when
/// the length is not a multiple of sixteen), and the sum is mixed once more with the length.
/// </para>
/// <para>
/// Reading from the end makes a suffix's steps the name's own: the sums after each step, kept by
/// <see cref="Hash(ReadOnlySpan{byte}, Span{ulong})"/>, give the hash of any suffix in one more step
/// (<see cref="SuffixHash"/>), so a wildcard lookup does not read the name again. The hash depends only on the bytes and
/// their count, so a suffix of a server name hashes as the same text given as a wildcard pattern.
/// </para>
/// <para>
/// It is not a defence against names chosen to collide: the routes come from the operator's catalog, and a collision costs
/// a lookup one more name comparison, never a wrong route.
/// </para>
/// </remarks>
internal static class SniNameHash
{
    /// <summary>How many sums <see cref="Hash(ReadOnlySpan{byte}, Span{ulong})"/> keeps for a name of up to 255 bytes.</summary>
    internal const int MaxSums = 16;

    private const int Step = 16;
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
        Span<ulong> sums = stackalloc ulong[MaxSums];
        return Hash(name, sums);
    }

    /// <summary>
    /// The case-folded hash of <paramref name="name"/> (at most 255 bytes), keeping in <paramref name="sums"/> what
    /// <see cref="SuffixHash"/> needs to hash its suffixes.
    /// </summary>
    internal static ulong Hash(ReadOnlySpan<byte> name, Span<ulong> sums)
    {
        int length = name.Length;
        if (length <= Step)
        {
            return Short(name);
        }

        ref byte start = ref MemoryMarshal.GetReference(name);
        ref ulong sum = ref MemoryMarshal.GetReference(sums);
        ulong total = 0;
        int steps = (length - 1) / Step;
        _ = sums[steps];
        ref byte at = ref Unsafe.Add(ref start, length);
        ref ulong end = ref Unsafe.Add(ref sum, steps);
        while (Unsafe.IsAddressLessThan(ref sum, ref end))
        {
            sum = total;
            sum = ref Unsafe.Add(ref sum, 1);
            at = ref Unsafe.Subtract(ref at, Step);
            total = BitOperations.RotateLeft(total, 29) + Mix(Read64(ref at, 0) ^ Key1, Read64(ref at, 8) ^ Key2);
        }

        sum = total;
        return Close(total, ref start, length);
    }

    /// <summary>
    /// The hash of the last <paramref name="length"/> bytes of <paramref name="name"/>, from the <paramref name="sums"/>
    /// <see cref="Hash(ReadOnlySpan{byte}, Span{ulong})"/> kept for it: equal to the hash of those bytes on their own.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong SuffixHash(ReadOnlySpan<byte> name, ReadOnlySpan<ulong> sums, int length)
    {
        ReadOnlySpan<byte> suffix = name[^length..];
        return length <= Step ? Short(suffix) : Close(sums[(length - 1) / Step], ref MemoryMarshal.GetReference(suffix), length);
    }

    // The first sixteen bytes, then the length.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Close(ulong total, ref byte start, int length) =>
        Mix((BitOperations.RotateLeft(total, 29) + Mix(Read64(ref start, 0) ^ Key3, Read64(ref start, 8) ^ Key4)) ^ Key5, (ulong)length ^ Key1);

    private static ulong Short(ReadOnlySpan<byte> name)
    {
        ref byte start = ref MemoryMarshal.GetReference(name);
        int length = name.Length;
        ulong sum;
        if (length >= 8)
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
        // The high half by MULX, the low by an ordinary multiplication, both at once and in registers: Math.BigMul passes
        // the low half through memory.
        if (Bmi2.X64.IsSupported)
        {
            return Bmi2.X64.MultiplyNoFlags(a, b) ^ (a * b);
        }

        ulong high = Math.BigMul(a, b, out ulong low);
        return high ^ low;
    }
}
