using System.Buffers;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// The extension types seen so far, to refuse a repeated one (RFC 8446 §4.2). Real hellos carry 7 to 20 extensions, most
/// of them registered types below 64 (server_name 0 to key_share 51): those take one exact bit each. The few others (GREASE,
/// renegotiation_info, ECH, ALPS) go through a 64-bit filter and a short stack list. A hostile hello with thousands of
/// empty extensions moves to a pooled 2^16-bit set, so the check stays linear.
/// </summary>
internal struct ExtensionTypeSet
{
    internal const int ListCapacity = 64;

    private TypeList _list;
    private int _count;
    private ulong _low;
    private ulong _filter;
    private ulong[]? _bits;

    /// <summary>Empties the set; the list slots need no clearing, only the first <c>_count</c> are read.</summary>
    internal void Reset()
    {
        _count = 0;
        _low = 0;
        _filter = 0;
        _bits = null;
    }

    /// <summary>Adds a type; false when it was already there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryAdd(ushort type)
    {
        if (type < 64)
        {
            ulong bit = 1UL << type;
            if ((_low & bit) != 0)
            {
                return false;
            }

            _low |= bit;
            return true;
        }

        return TryAddHigh(type);
    }

    private bool TryAddHigh(ushort type)
    {
        if (_bits is null)
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
                return true;
            }

            _bits = ArrayPool<ulong>.Shared.Rent(65536 / 64);
            Array.Clear(_bits, 0, 65536 / 64);
            foreach (ushort seen in (ReadOnlySpan<ushort>)_list)
            {
                _bits[seen >> 6] |= 1UL << (seen & 63);
            }
        }

        ref ulong word = ref _bits[type >> 6];
        ulong mask = 1UL << (type & 63);
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        return true;
    }

    /// <summary>Returns the pooled set, if one was taken.</summary>
    internal void Dispose()
    {
        if (_bits is not null)
        {
            ArrayPool<ulong>.Shared.Return(_bits);
            _bits = null;
        }
    }

    [InlineArray(ListCapacity)]
    private struct TypeList
    {
        private ushort _element0;
    }
}
