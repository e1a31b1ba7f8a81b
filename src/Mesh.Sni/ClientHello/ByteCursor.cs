using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// A forward-only cursor over either one span or a multi-segment sequence, so that one parser serves both inputs without
/// copying: the common single-span case never touches the sequence.
/// </summary>
internal ref struct ByteCursor
{
    private ReadOnlySpan<byte> _span;
    private ReadOnlySpan<byte> _start;
    private ReadOnlySequence<byte> _sequence;
    private SequencePosition _next;
    private long _remaining;

    // Where Start put the cursor, for Rewind.
    private SequencePosition _startNext;
    private long _length;

    /// <summary>Points the cursor at <paramref name="span"/>, in place.</summary>
    internal void Start(ReadOnlySpan<byte> span)
    {
        _span = span;
        _start = span;
        _sequence = default;
        _next = default;
        _startNext = default;
        _remaining = span.Length;
        _length = span.Length;
    }

    /// <summary>Points the cursor at <paramref name="sequence"/>, in place.</summary>
    internal void Start(scoped in ReadOnlySequence<byte> sequence)
    {
        if (sequence.IsSingleSegment)
        {
            Start(sequence.FirstSpan);
            return;
        }

        // Only a sequence built from a segment list has more than one segment (an array, a memory manager or a string comes
        // whole): its positions hold segments, read below without a cast check per segment.
        _sequence = sequence;
        SequencePosition start = sequence.Start, end = sequence.End;
        _remaining = Unsafe.As<ReadOnlySequenceSegment<byte>>(end.GetObject()!).RunningIndex + end.GetInteger()
            - (Unsafe.As<ReadOnlySequenceSegment<byte>>(start.GetObject()!).RunningIndex + start.GetInteger());
        _next = start;
        _span = default;

        // The first segment is fetched here, so that Current holds the first bytes before any read: the parser checks the
        // first record and handshake headers there. What Rewind needs is copied from registers, or field by field: a span
        // or position read back whole right after its fields were written stalls on store forwarding.
        NextSegment(out ReadOnlySpan<byte> first);
        _start = first;
        _startNext = new SequencePosition(_next.GetObject(), _next.GetInteger());
        _length = _remaining;
    }

    /// <summary>Moves back to where <c>Start</c> put the cursor.</summary>
    internal void Rewind()
    {
        _span = _start;
        _next = _startNext;
        _remaining = _length;
    }

    /// <summary>The next bytes that are contiguous in the input (empty only when none remain).</summary>
    internal readonly ReadOnlySpan<byte> Current => _span;

    /// <summary>Bytes not yet read.</summary>
    internal readonly long Remaining => _remaining;

    /// <summary>Copies up to <paramref name="destination"/>.Length bytes and returns how many were copied.</summary>
    internal int CopyUpTo(scoped Span<byte> destination)
    {
        int wanted = (int)Math.Min(destination.Length, _remaining);
        if (_span.Length >= wanted)
        {
            ReadOnlySpan<byte> source = _span[..wanted];
            if (wanted <= HeaderBuffer.Length)
            {
                // A record or handshake header, a few bytes: copied in place, cheaper than the call to a block copy.
                for (int i = 0; i < source.Length; i++)
                {
                    destination[i] = source[i];
                }
            }
            else
            {
                source.CopyTo(destination);
            }

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

    /// <summary>
    /// Moves past the next record header (RFC 8446 §5.1), read where it lies or gathered across a segment boundary, and
    /// gives the length of its fragment when it is a handshake record, legacy_record_version 3.x, of 1 to 2^14 bytes.
    /// </summary>
    /// <returns>The fragment length; -1 when the input ends inside the header or the record is not such a one. The record
    /// walk, which names each fault (<see cref="ClientHelloRecords"/>), reads headers its own way.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // once per record: the readers' steps within a record stay small
    internal int TakeHandshakeRecordHeader()
    {
        Unsafe.SkipInit(out HeaderBuffer room);
        scoped ReadOnlySpan<byte> header = _span;
        if (header.Length >= TlsWire.RecordHeaderLength)
        {
            _span = _span[TlsWire.RecordHeaderLength..];
            _remaining -= TlsWire.RecordHeaderLength;
        }
        else if (CopyUpTo(room) == HeaderBuffer.Length)
        {
            header = room;
        }
        else
        {
            return -1;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
        return header[0] == TlsWire.ContentTypeHandshake && header[1] == 3 && length is > 0 and <= TlsWire.MaxFragmentLength
            ? length
            : -1;
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

        // Past the current span: the sequence finds the landing point by segment lengths alone, without fetching the
        // memory of every segment in between (a 16 KB record in 512-byte segments spans 32 of them).
        count -= _span.Length;
        _remaining -= _span.Length;
        _span = default;
        _next = _sequence.GetPosition(count, _next);
        _remaining -= count;
    }

    /// <summary>Returns the next contiguous run of at most <paramref name="max"/> bytes (at least one if any remain) and moves past it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ReadOnlySpan<byte> Take(int max)
    {
        ReadOnlySpan<byte> span = _span;
        if (span.IsEmpty && !NextSegment(out span))
        {
            return default;
        }

        int n = Math.Min(max, span.Length);
        _span = span[n..];
        _remaining -= n;
        return span[..n];
    }

    /// <summary>Moves to the next segment that has bytes, handing them over in <paramref name="span"/> as well.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NextSegment(out ReadOnlySpan<byte> span)
    {
        // Straight from the segment list (see Start): TryGet works out the sequence's kind and casts again on every
        // call, which a hello in small segments would pay once per segment.
        while (_remaining > 0 && _next.GetObject() is { } next)
        {
            var segment = Unsafe.As<ReadOnlySequenceSegment<byte>>(next);
            int start = _next.GetInteger();
            ReadOnlySpan<byte> bytes = segment.Memory.Span;
            SequencePosition end = _sequence.End;
            if (ReferenceEquals(segment, end.GetObject()))
            {
                bytes = bytes[start..end.GetInteger()];
                _next = end;
            }
            else
            {
                bytes = bytes[start..];
                _next = new SequencePosition(segment.Next, 0);
            }

            if (!bytes.IsEmpty)
            {
                _span = bytes;
                span = bytes;
                return true;
            }
        }

        span = default;
        return false;
    }
}
