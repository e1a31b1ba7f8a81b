using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>
/// A fast 64-bit hash of the names in an intention key. The keys of the tables are configured by operators and looked-up
/// names come from authenticated certificates, so a seeded, flooding-resistant hash is not needed; every hit is confirmed
/// by comparing the names, so a collision costs a probe, never a wrong decision.
/// </summary>
internal static class NameHash
{
    private const ulong Prime1 = 0x9E3779B97F4A7C15;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4F;
    private const ulong Prime3 = 0x165667B19E3779F9;

    public static readonly ulong Wildcard = Compute(IntentionNames.Wildcard);
    public static readonly ulong Empty = Compute(string.Empty);
    private static readonly ulong DefaultName = Compute(ServiceName.Default);

    /// <summary>Hashes a name; the literal <c>default</c> (what ServiceName and IntentionSource store) is precomputed.</summary>
    public static ulong Of(string value) =>
        ReferenceEquals(value, ServiceName.Default) ? DefaultName
        : ReferenceEquals(value, IntentionNames.Wildcard) ? Wildcard
        : value.Length == 0 ? Empty
        : Compute(value);

    private static ulong Compute(ReadOnlySpan<char> value)
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(value);
        ulong hash = ((ulong)bytes.Length + 1) * Prime3;
        while (bytes.Length >= 8)
        {
            hash = Combine(hash, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
            bytes = bytes[8..];
        }

        if (!bytes.IsEmpty)
        {
            ulong tail = 0;
            for (int i = 0; i < bytes.Length; i++)
            {
                tail |= (ulong)bytes[i] << (8 * i);
            }

            hash = Combine(hash, tail);
        }

        return hash;
    }

    /// <summary>Folds the next part into a key; the order of parts matters.</summary>
    public static ulong Combine(ulong hash, ulong part) => (BitOperations.RotateLeft(hash * Prime1, 31) ^ part) * Prime2;

    /// <summary>Mixes the high bits down so the low bits can index a table.</summary>
    public static ulong Finish(ulong hash)
    {
        hash ^= hash >> 33;
        hash *= Prime3;
        hash ^= hash >> 29;
        return hash;
    }
}
