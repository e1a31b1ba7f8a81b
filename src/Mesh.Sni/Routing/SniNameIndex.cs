using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace Mesh.Sni.Routing;

/// <summary>
/// An immutable set of lower-case DNS names, each with the index of its route, found by the name's
/// <see cref="SniNameHash"/> in any ASCII case.
/// </summary>
/// <remarks>
/// <para>
/// Built for a lookup that finds the table cold, as a gateway does when every connection names another service. A Consul
/// name is a short first label (the service) before a tail that every service of a namespace and datacenter shares
/// (<c>.default.dc1.internal.&lt;trust domain&gt;.consul</c>). A first label of up to eight bytes is kept in the slot itself
/// and the tail once for all the names that end with it, so the lookup of such a name reads one line of slots, one of first
/// labels beside them (both loads leave together, neither waits on the other) and a tail that every lookup keeps cached:
/// no name bytes of its own. A name with a longer first label is kept whole in the arena, and its lookup reads one more line
/// or two after the slot.
/// </para>
/// <para>
/// Each slot is one <see cref="ulong"/> packing a fingerprint of the hash (its high bits), the route index, the length of
/// the first label kept in the slot (0 when the name is kept whole) and the arena offset of the tail or the whole name, so a
/// slot that holds another name is passed over without reading its bytes and the route is known as soon as the slot is.
/// Open addressing with linear probing, at most half full, without wrapping: the slots after the last home slot take the
/// runs that start near the end, and the last slot stays empty. Four slots from home are compared at once, with no branch
/// on which one holds the name (a name is often not in its home slot, and a branch that guessed wrong would throw away the
/// work already done on the next lookups while the slot came from memory).
/// </para>
/// <para>
/// Before the slots, a filter of eight bits a name (128 KB at 100,000 names), each name setting two bits of one word (a
/// blocked Bloom filter: one load), turns away about nineteen names in twenty that the index does not hold without reading
/// a slot. Every name a wildcard routes is first looked up among the exact names, so on a gateway that serves remote
/// datacenters this is the common case; the filter stays cached where the slots cannot.
/// </para>
/// <para>
/// The arena holds tails and whole names lower case, each after a byte with its length: <c>[length][bytes]</c>, so a
/// comparison reads contiguous bytes. Offset 0 is never used, so a zero slot is empty. The fields' widths are chosen per
/// table from its size: the fingerprint takes every bit the others leave (more than 30 at 100,000 Consul names, whose
/// tails are few). Keeping each first label in the same line as its slot (two words a slot) was measured slower: a window
/// of two slots sends more lookups to the slot-by-slot probe.
/// </para>
/// </remarks>
internal sealed class SniNameIndex
{
    /// <summary>How many slots follow the last home slot, so that a run of names starting near the end never wraps.</summary>
    private const int OverflowSlots = 64;

    /// <summary>The longest first label kept in a slot.</summary>
    private const int MaxInlineHead = sizeof(ulong);

    private const int HeadLengthBits = 4;

    private readonly ulong[] _slots;
    private readonly ulong[] _heads;
    private readonly byte[] _arena;
    private readonly int _slotMask;
    private readonly int _offsetBits;
    private readonly ulong _offsetMask;
    private readonly int _routeShift;
    private readonly ulong _routeMask;
    private readonly int _headLengthShift;
    private readonly int _headLengthMask;
    private readonly ulong _fingerprintMask;
    private readonly ulong[] _filter;
    private readonly int _filterWordMask;

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

        // Eight filter bits a name (a quarter of a slot's size): one name in eight that is not here gets past it.
        int filterBits = 64;
        while (filterBits < names.Count * 8)
        {
            filterBits <<= 1;
        }

        _filter = new ulong[filterBits / 64];
        _filterWordMask = (filterBits / 64) - 1;

        // Offsets and route indexes below 2^31 take at most 62 bits; a table that large keeps its names whole and leaves the
        // fingerprint two bits or more. Any table of Consul's size keeps 20 bits or more.
        int routeBits = BitsFor(Math.Max(routeCount - 1, 0));
        long arenaLength = ArenaLengthFor(names, inlineHeads: true);
        bool inlineHeads = BitsFor((int)Math.Min(arenaLength - 1, int.MaxValue)) + routeBits + HeadLengthBits <= 56;
        if (!inlineHeads)
        {
            arenaLength = ArenaLengthFor(names, inlineHeads: false);
        }

        if (arenaLength > Array.MaxLength)
        {
            throw new ArgumentException($"The {names.Count} route names take {arenaLength} bytes; a table holds at most {Array.MaxLength}.", nameof(names));
        }

        _arena = new byte[arenaLength];
        _offsetBits = BitsFor((int)arenaLength - 1);
        _offsetMask = (1UL << _offsetBits) - 1;
        _routeShift = _offsetBits;
        _routeMask = (1UL << routeBits) - 1;
        _headLengthShift = _offsetBits + routeBits;
        _headLengthMask = inlineHeads ? (1 << HeadLengthBits) - 1 : 0;
        _fingerprintMask = ulong.MaxValue << (inlineHeads ? _headLengthShift + HeadLengthBits : _headLengthShift);

        int offset = 1;
        var tails = new Dictionary<string, int>(StringComparer.Ordinal);
        var placed = new List<(ulong Hash, ulong Entry, ulong Head)>(names.Count);
        _slots = new ulong[slotCount + OverflowSlots];
        _heads = new ulong[slotCount + OverflowSlots];
        _slotMask = slotCount - 1;
        foreach ((byte[] name, int route) in names)
        {
            ulong hash = SniNameHash.Hash(name);
            if (Find(hash, name) >= 0)
            {
                throw new ArgumentException($"The {what} '{(what == "wildcard" ? "*." : string.Empty)}{Encoding.ASCII.GetString(name)}' is routed twice.", nameof(names));
            }

            int head = inlineHeads ? InlineHeadLength(name) : 0;
            int at;
            if (head == 0)
            {
                at = Append(name, ref offset);
            }
            else
            {
                string tail = Encoding.ASCII.GetString(name, head, name.Length - head);
                if (!tails.TryGetValue(tail, out at))
                {
                    at = Append(name.AsSpan(head), ref offset);
                    tails.Add(tail, at);
                }
            }

            ulong entry = Fingerprint(hash) | ((ulong)head << _headLengthShift) | ((ulong)route << _routeShift) | (uint)at;
            ulong headBytes = head == 0 ? 0 : SniNameComparison.ReadHead(name, head);
            placed.Add((hash, entry, headBytes));
            if (!TryPlace(_slots, _heads, _slotMask, hash, entry, headBytes))
            {
                // A run of occupied slots reached the end: spread the names over twice the slots. At most half full, a run
                // of OverflowSlots names does not happen by chance.
                (_slots, _heads, _slotMask) = Spread(placed, (_slotMask + 1) * 2);
            }

            _filter[FilterWord(hash)] |= FilterBits(hash);
            Count++;
        }
    }

    /// <summary>How many names the index holds.</summary>
    internal int Count { get; }

    /// <summary>How many bytes the tails and whole names take in the arena, the unused first byte included.</summary>
    internal int ArenaLength => _arena.Length;

    /// <summary>How many slots there are to probe from, the overflow after the last home slot not counted.</summary>
    internal int SlotCount => _slotMask + 1;

    /// <summary>The route of <paramref name="name"/> (any ASCII case) whose hash is <paramref name="hash"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Find(ulong hash, ReadOnlySpan<byte> name)
    {
        // The filter is small enough to stay cached when the slots are not: most names that are not here (a name routed by a
        // wildcard is first looked up here) are turned away without reading a slot.
        ulong bits = FilterBits(hash);
        if ((Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_filter), FilterWord(hash)) & bits) != bits)
        {
            return -1;
        }

        ref ulong slots = ref MemoryMarshal.GetArrayDataReference(_slots);
        ref ulong heads = ref MemoryMarshal.GetArrayDataReference(_heads);
        ulong fingerprint = Fingerprint(hash);
        // The mask keeps the home slot inside the array, and the overflow slots keep the three after it inside too: no
        // bounds check on the hot path.
        int home = (int)hash & _slotMask;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<ulong> window = Vector256.LoadUnsafe(ref slots, (nuint)home);
            // Touch the first labels beside the home slot now, so that their line comes from memory with the slots' line
            // rather than after it.
            _ = Volatile.Read(ref Unsafe.Add(ref heads, home));
            uint matches = Vector256.Equals(window & Vector256.Create(_fingerprintMask), Vector256.Create(fingerprint)).ExtractMostSignificantBits();
            if (matches != 0)
            {
                // Read again from the lines the vectors loaded: cheaper than taking a lane out of a vector.
                int found = home + BitOperations.TrailingZeroCount(matches);
                ulong entry = Unsafe.Add(ref slots, found);
                if (Holds(entry, Unsafe.Add(ref heads, found), name))
                {
                    return Route(entry);
                }
            }
            else if (Vector256.EqualsAny(window, Vector256<ulong>.Zero))
            {
                return -1;
            }
        }

        return Probe(ref slots, ref heads, home, fingerprint, name);
    }

    // Slot by slot from home to the first empty slot; the last slot of the array is always empty.
    private int Probe(ref ulong slots, ref ulong heads, int slot, ulong fingerprint, ReadOnlySpan<byte> name)
    {
        while (true)
        {
            ulong entry = Unsafe.Add(ref slots, slot);
            if (entry == 0)
            {
                return -1;
            }

            if ((entry & _fingerprintMask) == fingerprint && Holds(entry, Unsafe.Add(ref heads, slot), name))
            {
                return Route(entry);
            }

            slot++;
        }
    }

    /// <summary>Whether the slot's <paramref name="entry"/> and <paramref name="head"/> are <paramref name="name"/>'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Holds(ulong entry, ulong head, ReadOnlySpan<byte> name)
    {
        // The offset comes from a slot this index wrote: the record it points to lies inside the arena, and once its length
        // byte matches, so do the bytes compared.
        ref byte record = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_arena), (nint)(uint)(entry & _offsetMask));
        int headLength = (int)(entry >> _headLengthShift) & _headLengthMask;
        // Once the lengths add up, the first label is no longer than the name: the tail needs no bounds check.
        return record + headLength == name.Length
            && (headLength == 0 || SniNameComparison.ReadHead(name, headLength) == head)
            && SniNameComparison.EqualsLowerCase(
                MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref MemoryMarshal.GetReference(name), headLength), record),
                ref Unsafe.Add(ref record, 1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Route(ulong entry) => (int)((entry >> _routeShift) & _routeMask);

    private int Append(ReadOnlySpan<byte> bytes, ref int offset)
    {
        int at = offset;
        _arena[at] = (byte)bytes.Length;
        bytes.CopyTo(_arena.AsSpan(at + 1));
        offset += 1 + bytes.Length;
        return at;
    }

    private static bool TryPlace(ulong[] slots, ulong[] heads, int slotMask, ulong hash, ulong entry, ulong head)
    {
        int slot = (int)hash & slotMask;
        while (slots[slot] != 0)
        {
            slot++;
        }

        if (slot == slots.Length - 1)
        {
            return false;
        }

        slots[slot] = entry;
        heads[slot] = head;
        return true;
    }

    private static (ulong[] Slots, ulong[] Heads, int SlotMask) Spread(List<(ulong Hash, ulong Entry, ulong Head)> placed, int slotCount)
    {
        while (true)
        {
            var slots = new ulong[slotCount + OverflowSlots];
            var heads = new ulong[slotCount + OverflowSlots];
            bool all = true;
            foreach ((ulong hash, ulong entry, ulong head) in placed)
            {
                all = all && TryPlace(slots, heads, slotCount - 1, hash, entry, head);
            }

            if (all)
            {
                return (slots, heads, slotCount - 1);
            }

            slotCount *= 2;
        }
    }

    // The arena keeps every tail once, then every name whose first label is not kept in its slot.
    private static long ArenaLengthFor(List<(byte[] Name, int Route)> names, bool inlineHeads)
    {
        var tails = new HashSet<string>(StringComparer.Ordinal);
        long length = 1;
        foreach ((byte[] name, _) in names)
        {
            int head = inlineHeads ? InlineHeadLength(name) : 0;
            if (head == 0)
            {
                length += 1 + name.Length;
            }
            else if (tails.Add(Encoding.ASCII.GetString(name, head, name.Length - head)))
            {
                length += 1 + name.Length - head;
            }
        }

        return length;
    }

    /// <summary>
    /// How many bytes of <paramref name="name"/>'s first label its slot keeps: the label up to its dot, when it is one to
    /// eight bytes long; otherwise 0, and the arena keeps the whole name.
    /// </summary>
    private static int InlineHeadLength(byte[] name)
    {
        int dot = name.AsSpan(0, Math.Min(name.Length, MaxInlineHead + 1)).IndexOf((byte)'.');
        int head = dot < 0 ? name.Length : dot;
        return head is > 0 and <= MaxInlineHead ? head : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Fingerprint(ulong hash) => hash & _fingerprintMask;

    // Two bits of one word a name (a blocked Bloom filter): about one name in twenty that is not here gets past, against
    // one in eight with one bit, for the same single load. The word takes bits 26 and up, the two bits 14 to 25; the
    // fingerprint takes the highest bits, so it is not the filter's.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int FilterWord(ulong hash) => (int)(hash >> 26) & _filterWordMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong FilterBits(ulong hash) => (1UL << (int)(hash >> 20)) | (1UL << (int)(hash >> 14));

    private static int BitsFor(int largest) => largest == 0 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)largest);
}
