using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// The extension types of 64 and above seen so far, to refuse a repeated one (RFC 8446 §4.2); the walk keeps the types
/// below 64 (server_name 0 to key_share 51, most of any hello) as bits of a local. The few others of a real hello (GREASE,
/// renegotiation_info, ECH, ALPS) go through a 64-bit filter and a short stack list. A hostile hello with thousands of
/// empty extensions moves to a 2^16-bit set of the thread's, so the check stays linear.
/// </summary>
/// <remarks>
/// The set holds no object reference: a struct with one must be zeroed whole in the prologue of every frame it lives in
/// (<c>[SkipLocalsInit]</c> cannot skip GC references), and that 160-byte clear was a measurable part of a parse. The
/// large set is therefore the thread's own, taken by a parse only while it runs (a parse never yields its thread).
/// </remarks>
internal struct ExtensionTypeSet
{
    internal const int ListCapacity = 64;

    [ThreadStatic]
    private static ulong[]? t_bits;

    private TypeList _list;
    private int _count;
    private int _added;
    private ulong _filter;
    private bool _large;

    /// <summary>
    /// Where pre_shared_key ends, when the walk met it: kept here rather than in a local of the walk, whose registers are
    /// all taken (see <see cref="ClientHelloExtensions"/>).
    /// </summary>
    internal int PreSharedKeyEnd;

    /// <summary>
    /// The types below 64 with a rule of their own that the walk has met, to refuse a repeated one: kept here for the
    /// same reason as <see cref="PreSharedKeyEnd"/>.
    /// </summary>
    internal ulong RuleTypes;

    /// <summary>Empties the set; the list slots need no clearing, only the first <c>_count</c> are read.</summary>
    internal void Reset()
    {
        _count = 0;
        _added = 0;
        _filter = 0;
        _large = false;
        RuleTypes = 0;
    }

    /// <summary>How many types the set holds.</summary>
    internal readonly int Count => _added;

    /// <summary>Adds a type of 64 or above; false when it was already there.</summary>
    internal bool TryAdd(ushort type)
    {
        Debug.Assert(type >= 64, "Types below 64 are kept by the caller.");
        ulong[] bits;
        if (!_large)
        {
            ulong bit = 1UL << (int)((type * 0x9E3779B1u) >> 26);
            if ((_filter & bit) != 0 && ((ReadOnlySpan<ushort>)_list)[.._count].Contains(type))
            {
                return false;
            }

            if (_count < ListCapacity)
            {
                _filter |= bit;
                _list[_count++] = type;
                _added++;
                return true;
            }

            // Once per thread, and only for a hostile hello: the 8 KiB set is kept for the thread's later parses.
            bits = t_bits ??= new ulong[65536 / 64];
            Array.Clear(bits);
            foreach (ushort seen in (ReadOnlySpan<ushort>)_list)
            {
                bits[seen >> 6] |= 1UL << (seen & 63);
            }

            _large = true;
        }
        else
        {
            bits = t_bits!;
        }

        ref ulong word = ref bits[type >> 6];
        ulong mask = 1UL << (type & 63);
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        _added++;
        return true;
    }

    [InlineArray(ListCapacity)]
    private struct TypeList
    {
        private ushort _element0;
    }
}
