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
/// Slots come in buckets of four, one cache line each (the array is pinned and the buckets start on a 64-byte boundary):
/// four words of entries, then the four first labels. Each entry packs a fingerprint of the hash (its high bits), the route
/// index, the length of the first label kept beside it (0 when the name is kept whole) and the arena offset of the tail or
/// the whole name, so an entry that holds another name is passed over without reading its bytes. The lookup of a name in
/// its home bucket reads that one line, where an unaligned window of four slots and its first labels took two lines, and
/// three or four when the window crossed a line. The four entries are compared at once, with no branch on which one holds
/// the name. A full bucket sends the probe on to the next (open addressing, at most half the slots used, without wrapping:
/// the buckets after the last home bucket take the runs that start near the end, and the last bucket stays empty). A name
/// is found as its slot's position, so that the route table can keep its routes in slot order and fetch the route's line
/// together with the bucket's (<see cref="HomeSlot"/>) instead of after it. Measured over 10,000 rotating names in 100,000
/// routes (cachegrind, a 48 KB first-level and a 2 MB second-level cache): an exact hit misses the second level 0.8 times
/// rather than 2.5, and the first level 4.1 times (the filter, the bucket, the route, the name) rather than 5.2.
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
/// tails are few).
/// </para>
/// </remarks>
internal sealed class SniNameIndex
{
    /// <summary>How many slots a bucket has: four entries and four first labels fill one 64-byte line.</summary>
    internal const int BucketSlots = 4;

    /// <summary>How many buckets follow the last home bucket, so that a run of names starting near the end never wraps.</summary>
    private const int OverflowBuckets = 16;

    /// <summary>How many words a bucket takes: its entries, then its first labels.</summary>
    private const int BucketWords = 2 * BucketSlots;

    private const int LineBytes = 64;

    /// <summary>The longest first label kept in a slot.</summary>
    private const int MaxInlineHead = sizeof(ulong);

    private const int HeadLengthBits = 4;

    private readonly ulong[] _buckets;
    private readonly int _firstWord;
    private readonly int _bucketMask;
    private readonly byte[] _arena;
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
        int bucketCount = 1;
        while (bucketCount * BucketSlots < names.Count * 2)
        {
            bucketCount <<= 1;
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
        (_buckets, _firstWord) = AllocateBuckets(bucketCount);
        _bucketMask = bucketCount - 1;
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
            if (!TryPlace(_buckets, _firstWord, _bucketMask, hash, entry, headBytes))
            {
                // A run of full buckets reached the end: spread the names over twice the buckets. At most half full, a run
                // of OverflowBuckets full buckets does not happen by chance.
                (_buckets, _firstWord, _bucketMask) = Spread(placed, (_bucketMask + 1) * 2);
            }

            _filter[FilterWord(hash)] |= FilterBits(hash);
            Count++;
        }
    }

    /// <summary>How many names the index holds.</summary>
    internal int Count { get; }

    /// <summary>How many bytes the tails and whole names take in the arena, the unused first byte included.</summary>
    internal int ArenaLength => _arena.Length;

    /// <summary>How many slots there are to probe from, the overflow after the last home bucket not counted.</summary>
    internal int SlotCount => (_bucketMask + 1) * BucketSlots;

    /// <summary>How many slot positions <see cref="FindSlot"/> may return: the length of an array in slot order.</summary>
    internal int SlotPositions => (_bucketMask + 1 + OverflowBuckets) * BucketSlots;

    /// <summary>The route of <paramref name="name"/> (any ASCII case) whose hash is <paramref name="hash"/>, or -1.</summary>
    internal int Find(ulong hash, ReadOnlySpan<byte> name)
    {
        int slot = FindSlot(hash, name);
        return slot < 0 ? -1 : Route(Entry(slot));
    }

    /// <summary>
    /// The first slot position of <paramref name="hash"/>'s home bucket: an array in slot order keeps the values of the
    /// names found there from this position on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int HomeSlot(ulong hash) => ((int)hash & _bucketMask) * BucketSlots;

    /// <summary>
    /// Whether <paramref name="hash"/> may be here: false for most names the index does not hold (a filter that stays
    /// cached), true for every name it holds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool MayHold(ulong hash)
    {
        ulong bits = FilterBits(hash);
        return (Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_filter), FilterWord(hash)) & bits) == bits;
    }

    /// <summary>
    /// The slot position of <paramref name="name"/> (any ASCII case) whose hash is <paramref name="hash"/>, or -1: a
    /// position below <see cref="SlotPositions"/> in the order of <see cref="ArrangeBySlot{T}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int FindSlot(ulong hash, ReadOnlySpan<byte> name) => MayHold(hash) ? Probe(hash, name) : -1;

    /// <summary>
    /// The probe behind <see cref="FindSlot"/>, once <see cref="MayHold"/> let the name through: bucket by bucket from home
    /// to the first bucket with an empty slot; the last bucket of the array is always empty.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int Probe(ulong hash, ReadOnlySpan<byte> name)
    {
        ref ulong words = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_buckets), _firstWord);
        ulong fingerprint = Fingerprint(hash);
        // The mask keeps the home bucket inside the array, and the run of full buckets after it ends before the last one:
        // no bounds check on the hot path.
        int bucket = (int)hash & _bucketMask;
        while (true)
        {
            ref ulong entries = ref Unsafe.Add(ref words, bucket * BucketWords);
            uint matches;
            uint empty;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<ulong> window = Vector256.LoadUnsafe(ref entries);
                matches = Vector256.Equals(window & Vector256.Create(_fingerprintMask), Vector256.Create(fingerprint)).ExtractMostSignificantBits();
                empty = Vector256.Equals(window, Vector256<ulong>.Zero).ExtractMostSignificantBits();
            }
            else
            {
                (matches, empty) = Compare(ref entries, fingerprint);
            }

            // An empty slot matches a fingerprint of zero bits too, and then fails the comparison: its offset 0 holds a
            // length that no name adds up to.
            while (matches != 0)
            {
                int lane = BitOperations.TrailingZeroCount(matches);
                if (Holds(Unsafe.Add(ref entries, lane), Unsafe.Add(ref entries, BucketSlots + lane), name))
                {
                    return (bucket * BucketSlots) + lane;
                }

                matches &= matches - 1;
            }

            if (empty != 0)
            {
                return -1;
            }

            bucket++;
        }
    }

    /// <summary>The values of <paramref name="byRoute"/> in slot order: each name's route at its slot position.</summary>
    internal T[] ArrangeBySlot<T>(IReadOnlyList<T> byRoute)
    {
        var bySlot = new T[SlotPositions];
        for (int slot = 0; slot < bySlot.Length; slot++)
        {
            ulong entry = Entry(slot);
            if (entry != 0)
            {
                bySlot[slot] = byRoute[Route(entry)];
            }
        }

        return bySlot;
    }

    private ulong Entry(int slot) => _buckets[_firstWord + ((slot / BucketSlots) * BucketWords) + (slot % BucketSlots)];

    private (uint Matches, uint Empty) Compare(ref ulong entries, ulong fingerprint)
    {
        uint matches = 0;
        uint empty = 0;
        for (int lane = 0; lane < BucketSlots; lane++)
        {
            ulong entry = Unsafe.Add(ref entries, lane);
            matches |= (entry & _fingerprintMask) == fingerprint ? 1u << lane : 0;
            empty |= entry == 0 ? 1u << lane : 0;
        }

        return (matches, empty);
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

    /// <summary>
    /// The words of <paramref name="bucketCount"/> home buckets and the overflow after them, and the index of the first
    /// word: a pinned array does not move, so its buckets stay on the 64-byte boundaries found here.
    /// </summary>
    private static (ulong[] Words, int FirstWord) AllocateBuckets(int bucketCount)
    {
        int words = (bucketCount + OverflowBuckets) * BucketWords;
        ulong[] array = GC.AllocateArray<ulong>(words + (LineBytes / sizeof(ulong)) - 1, pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(array, 0);
        int firstWord = (int)((LineBytes - (address % LineBytes)) % LineBytes) / sizeof(ulong);
        return (array, firstWord);
    }

    private static bool TryPlace(ulong[] words, int firstWord, int bucketMask, ulong hash, ulong entry, ulong head)
    {
        int lastBucket = bucketMask + OverflowBuckets;
        int bucket = (int)hash & bucketMask;
        while (true)
        {
            if (bucket == lastBucket)
            {
                return false;
            }

            int at = firstWord + (bucket * BucketWords);
            for (int lane = 0; lane < BucketSlots; lane++)
            {
                if (words[at + lane] == 0)
                {
                    words[at + lane] = entry;
                    words[at + BucketSlots + lane] = head;
                    return true;
                }
            }

            bucket++;
        }
    }

    private static (ulong[] Words, int FirstWord, int BucketMask) Spread(List<(ulong Hash, ulong Entry, ulong Head)> placed, int bucketCount)
    {
        while (true)
        {
            (ulong[] words, int firstWord) = AllocateBuckets(bucketCount);
            bool all = true;
            foreach ((ulong hash, ulong entry, ulong head) in placed)
            {
                all = all && TryPlace(words, firstWord, bucketCount - 1, hash, entry, head);
            }

            if (all)
            {
                return (words, firstWord, bucketCount - 1);
            }

            bucketCount *= 2;
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
