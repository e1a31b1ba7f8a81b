using System.Buffers;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// A forward-only cursor over either one span or a multi-segment sequence, so that one parser serves both inputs without
/// copying: the common single-span case never touches the sequence.
/// </summary>
internal ref struct ByteCursor
{
    private ReadOnlySpan<byte> _span;
    private readonly ReadOnlySequence<byte> _sequence;
    private SequencePosition _next;
    private long _remaining;

    internal ByteCursor(ReadOnlySpan<byte> span)
    {
        _span = span;
        _sequence = default;
        _next = default;
        _remaining = span.Length;
    }

    internal ByteCursor(scoped in ReadOnlySequence<byte> sequence)
    {
        _sequence = sequence;
        _next = sequence.Start;
        _span = default;
        _remaining = sequence.Length;
    }

    /// <summary>Bytes not yet read.</summary>
    internal readonly long Remaining => _remaining;

    /// <summary>Copies up to <paramref name="destination"/>.Length bytes and returns how many were copied.</summary>
    internal int CopyUpTo(scoped Span<byte> destination)
    {
        int wanted = (int)Math.Min(destination.Length, _remaining);
        if (_span.Length >= wanted)
        {
            _span[..wanted].CopyTo(destination);
            _span = _span[wanted..];
            _remaining -= wanted;
            return wanted;
        }

        int copied = 0;
        while (copied < wanted)
        {
            ReadOnlySpan<byte> chunk = Take(wanted - copied);
            chunk.CopyTo(destination[copied..]);
            copied += chunk.Length;
        }

        return copied;
    }

    /// <summary>Skips <paramref name="count"/> bytes, which must not exceed <see cref="Remaining"/>.</summary>
    internal void Skip(long count)
    {
        if (_span.Length >= count)
        {
            _span = _span[(int)count..];
            _remaining -= count;
            return;
        }

        while (count > 0)
        {
            count -= Take((int)Math.Min(count, int.MaxValue)).Length;
        }
    }

    /// <summary>Returns the next contiguous run of at most <paramref name="max"/> bytes (at least one if any remain) and moves past it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ReadOnlySpan<byte> Take(int max)
    {
        if (_span.IsEmpty && !NextSegment())
        {
            return default;
        }

        int n = Math.Min(max, _span.Length);
        ReadOnlySpan<byte> result = _span[..n];
        _span = _span[n..];
        _remaining -= n;
        return result;
    }

    private bool NextSegment()
    {
        if (_remaining == 0)
        {
            return false;
        }

        while (_sequence.TryGet(ref _next, out ReadOnlyMemory<byte> memory))
        {
            if (!memory.IsEmpty)
            {
                _span = memory.Span;
                return true;
            }
        }

        return false;
    }
}
