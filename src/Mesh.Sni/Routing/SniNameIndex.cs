using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Mesh.Sni.Routing;

/// <summary>
/// An immutable set of lower-case DNS names, each with the index of its route, found by the name's
/// <see cref="SniNameHash"/> in any ASCII case.
/// </summary>
/// <remarks>
/// <para>
/// Built for a lookup that finds the table cold, as a gateway does when every connection names another service: the probe
/// reads one slot array, the name one arena line or two, and nothing else. Each slot is one <see cref="ulong"/> packing a
/// fingerprint of the hash (its high bits), the route index and the name's offset in the arena, so a slot that holds another
/// name is passed over without reading its bytes, and the route index is known before the name is compared (the
/// processor loads the route while it compares). Open addressing with linear probing over a power-of-two array at most
/// half full: a probe rarely leaves the slot's cache line.
/// </para>
/// <para>
/// Before the slots, a one-bit-per-hash filter of eight bits a name (128 KB at 100,000 names, a sixteenth of the slots) turns
/// away seven names in eight that the index does not hold without reading a slot. Every name a wildcard routes is first
/// looked up among the exact names, so on a gateway that serves remote datacenters this is the common case; the filter
/// stays cached where the slots cannot.
/// </para>
/// <para>
/// The arena holds every name once, lower case, after a byte with its length: <c>[length][name]</c>, back to back, so the
/// comparison reads contiguous bytes and follows no pointer. Offset 0 is never a name's, so a zero slot is empty. The fields'
/// widths are chosen per table from its size: the fingerprint takes every bit the offset and the index leave (24 bits at
/// 100,000 Consul names), never fewer than two. Storing the tail that Consul names share only once was tried and measured
/// slower: the second comparison costs more than the smaller arena saves.
/// </para>
/// </remarks>
internal sealed class SniNameIndex
{
    private readonly ulong[] _slots;
    private readonly byte[] _arena;
    private readonly int _slotMask;
    private readonly int _offsetBits;
    private readonly ulong _offsetMask;
    private readonly ulong _routeMask;
    private readonly ulong _fingerprintMask;
    private readonly ulong[] _filter;
    private readonly int _filterMask;

    /// <summary>Indexes <paramref name="names"/>, already lower case and at most 255 bytes each.</summary>
    /// <param name="names">Each name and the index of its route (non-negative).</param>
    /// <param name="routeCount">One more than the largest route index.</param>
    /// <param name="what">What the names are, for the duplicate error: <c>server name</c> or <c>wildcard</c>.</param>
    /// <exception cref="ArgumentException">A name appears twice.</exception>
    internal SniNameIndex(List<(byte[] Name, int Route)> names, int routeCount, string what)
    {
        int slotCount = 4;
        while (slotCount < names.Count * 2)
        {
            slotCount <<= 1;
        }

        _slots = new ulong[slotCount];
        _slotMask = slotCount - 1;
        // Eight filter bits a name (a quarter of a slot's size): one name in eight that is not here gets past it.
        int filterBits = 64;
        while (filterBits < names.Count * 8)
        {
            filterBits <<= 1;
        }

        _filter = new ulong[filterBits / 64];
        _filterMask = filterBits - 1;

        long arenaLength = 1;
        foreach ((byte[] name, _) in names)
        {
            arenaLength += 1 + name.Length;
        }

        if (arenaLength > Array.MaxLength)
        {
            throw new ArgumentException($"The {names.Count} route names take {arenaLength} bytes; a table holds at most {Array.MaxLength}.", nameof(names));
        }

        _arena = new byte[arenaLength];
        _offsetBits = BitsFor((int)arenaLength - 1);
        int routeBits = BitsFor(Math.Max(routeCount - 1, 0));
        _offsetMask = (1UL << _offsetBits) - 1;
        _routeMask = (1UL << routeBits) - 1;
        // Offsets and route indexes below 2^31 take at most 62 bits: the fingerprint keeps two or more.
        _fingerprintMask = ulong.MaxValue << (_offsetBits + routeBits);

        int offset = 1;
        foreach ((byte[] name, int route) in names)
        {
            ulong hash = SniNameHash.Hash(name);
            if (Find(hash, name) >= 0)
            {
                throw new ArgumentException($"The {what} '{(what == "wildcard" ? "*." : string.Empty)}{Encoding.ASCII.GetString(name)}' is routed twice.", nameof(names));
            }

            _arena[offset] = (byte)name.Length;
            name.CopyTo(_arena, offset + 1);
            int slot = (int)hash & _slotMask;
            while (_slots[slot] != 0)
            {
                slot = (slot + 1) & _slotMask;
            }

            _slots[slot] = Fingerprint(hash) | ((ulong)route << _offsetBits) | (uint)offset;
            int bit = FilterBit(hash);
            _filter[bit >> 6] |= 1UL << bit;
            offset += 1 + name.Length;
            Count++;
        }
    }

    /// <summary>How many names the index holds.</summary>
    internal int Count { get; }

    /// <summary>The route of <paramref name="name"/> (any ASCII case) whose hash is <paramref name="hash"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Find(ulong hash, ReadOnlySpan<byte> name)
    {
        // The filter is small enough to stay cached when the slots are not: most names that are not here (a name routed by a
        // wildcard is first looked up here) are turned away without reading a slot.
        int bit = FilterBit(hash);
        if ((Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_filter), bit >> 6) & (1UL << bit)) == 0)
        {
            return -1;
        }

        ref ulong slots = ref MemoryMarshal.GetArrayDataReference(_slots);
        ulong fingerprint = Fingerprint(hash);
        int slot = (int)hash & _slotMask;
        while (true)
        {
            // The mask keeps the slot inside the array: no bounds check on the hot path.
            ulong entry = Unsafe.Add(ref slots, slot);
            if (entry == 0)
            {
                return -1;
            }

            if ((entry & _fingerprintMask) == fingerprint && NameAt((int)(entry & _offsetMask), name))
            {
                return (int)((entry >> _offsetBits) & _routeMask);
            }

            slot = (slot + 1) & _slotMask;
        }
    }

    /// <summary>How many bytes the names take in the arena, the unused first byte included.</summary>
    internal int ArenaLength => _arena.Length;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NameAt(int offset, ReadOnlySpan<byte> name)
    {
        byte[] arena = _arena;
        return arena[offset] == name.Length && Ascii.EqualsIgnoreCase(name, arena.AsSpan(offset + 1, name.Length));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Fingerprint(ulong hash) => hash & _fingerprintMask;

    // Bits 20 and up: the slot takes the lowest bits and the fingerprint the highest.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FilterBit(ulong hash) => (int)(hash >> 20) & _filterMask;

    private static int BitsFor(int largest) => largest == 0 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)largest);
}
