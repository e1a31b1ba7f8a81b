using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// Reads the handshake byte stream that a run of TLS records carries, stepping over each 5-byte record header, so the
/// ClientHello grammar is parsed the same way whether the message sits in one record of one segment or is spread over many.
/// </summary>
/// <remarks>
/// The reader checks each record header it opens, but not that the records hold the whole message: the parser reads a hello
/// this way before any walk of the record layer, and walks it only when the read did not end cleanly. Reads past the data,
/// or into a record that is not a well-formed handshake record, return zeros and set <see cref="Overrun"/> instead of
/// throwing.
/// </remarks>
internal ref struct HandshakeReader
{
    private const int RecordHeaderLength = 5;
    private const byte ContentTypeHandshake = 22;
    private const int MaxFragmentLength = 1 << 14;

    private ReadOnlySpan<byte> _chunk;
    private ByteCursor _cursor;
    private int _recordRemaining;
    private int _chunkEnd;
    private int _records;
    private bool _overrun;

    /// <summary>Starts at the first handshake byte of the records that begin the input, set up in place.</summary>
    internal void Start(ReadOnlySpan<byte> input)
    {
        _cursor.Start(input);
        BeforeFirstRecord();
    }

    /// <inheritdoc cref="Start(ReadOnlySpan{byte})"/>
    internal void Start(scoped in ReadOnlySequence<byte> input)
    {
        _cursor.Start(input);
        BeforeFirstRecord();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void BeforeFirstRecord()
    {
        _chunk = default;
        _recordRemaining = 0;
        _chunkEnd = 0;
        _records = 0;
        _overrun = false;
    }

    /// <summary>The next contiguous bytes of the input (before the first read: from the first record header on).</summary>
    internal readonly ReadOnlySpan<byte> UnreadContiguous => _cursor.Current;

    /// <summary>The input's bytes not yet read (before the first read: all of them).</summary>
    internal readonly long UnreadLength => _cursor.Remaining;

    /// <summary>Offset of the next byte in the handshake stream.</summary>
    /// <remarks>
    /// Every read moves it by exactly the bytes read, past the data too. The reader is reached through a reference, so a loop
    /// that reads field after field keeps its own count instead of reading this back after each step.
    /// </remarks>
    internal readonly int Position => _chunkEnd - _chunk.Length;

    /// <summary>Whether a read went past the data, or into a record that is not a well-formed handshake record (never for checked input).</summary>
    internal readonly bool Overrun => _overrun;

    /// <summary>The records opened so far.</summary>
    internal readonly int RecordCount => _records;

    /// <summary>Whether everything read so far ends exactly where a record ends.</summary>
    internal readonly bool AtRecordEnd => _chunk.IsEmpty && _recordRemaining == 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte ReadUInt8()
    {
        if (!_chunk.IsEmpty)
        {
            byte value = _chunk[0];
            _chunk = _chunk[1..];
            return value;
        }

        return ReadUInt8Slow();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int ReadUInt16()
    {
        if (_chunk.Length >= 2)
        {
            int value = BinaryPrimitives.ReadUInt16BigEndian(_chunk);
            _chunk = _chunk[2..];
            return value;
        }

        return (ReadUInt8Slow() << 8) | ReadUInt8();
    }

    /// <summary>Reads four bytes as one big-endian value, such as an extension's type and length together.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint ReadUInt32()
    {
        ReadOnlySpan<byte> chunk = _chunk;
        if (chunk.Length >= 4)
        {
            _chunk = chunk[4..];
            return BinaryPrimitives.ReadUInt32BigEndian(chunk);
        }

        uint high = (uint)ReadUInt16();
        return (high << 16) | (uint)ReadUInt16();
    }

    /// <summary>Moves past <paramref name="count"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Skip(int count)
    {
        if (_chunk.Length >= count)
        {
            _chunk = _chunk[count..];
            return;
        }

        SkipSlow(count);
    }

    /// <summary>Reads <paramref name="count"/> bytes straight from the input when they are contiguous there.</summary>
    /// <returns>False, having read nothing, when they straddle a record or segment boundary.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryReadContiguous(int count, out ReadOnlySpan<byte> bytes)
    {
        if (_chunk.Length >= count)
        {
            bytes = _chunk[..count];
            _chunk = _chunk[count..];
            return true;
        }

        bytes = default;
        return false;
    }

    /// <summary>The next bytes that are contiguous in the input, at most <paramref name="max"/>, without moving past them.</summary>
    /// <returns>Empty only past the data.</returns>
    internal ReadOnlySpan<byte> PeekContiguous(int max)
    {
        ReadOnlySpan<byte> chunk = CurrentChunk();
        return chunk.Length <= max ? chunk : chunk[..max];
    }

    /// <summary>Reads the next bytes that are contiguous in the input, at most <paramref name="max"/>.</summary>
    /// <returns>Empty only past the data, which marks an overrun.</returns>
    internal ReadOnlySpan<byte> ReadContiguous(int max)
    {
        ReadOnlySpan<byte> chunk = CurrentChunk();
        if (chunk.IsEmpty)
        {
            Overran(max);
            return default;
        }

        int n = Math.Min(max, chunk.Length);
        _chunk = chunk[n..];
        return chunk[..n];
    }

    /// <summary>Copies the next <paramref name="destination"/>.Length bytes, across record and segment boundaries.</summary>
    internal void CopyTo(scoped Span<byte> destination)
    {
        int done = 0;
        while (done < destination.Length)
        {
            ReadOnlySpan<byte> chunk = CurrentChunk();
            if (chunk.IsEmpty)
            {
                destination[done..].Clear();
                Overran(destination.Length - done);
                break;
            }

            int n = Math.Min(destination.Length - done, chunk.Length);
            chunk[..n].CopyTo(destination[done..]);
            _chunk = chunk[n..];
            done += n;
        }
    }

    private byte ReadUInt8Slow()
    {
        ReadOnlySpan<byte> chunk = CurrentChunk();
        if (chunk.IsEmpty)
        {
            Overran(1);
            return 0;
        }

        _chunk = chunk[1..];
        return chunk[0];
    }

    private void SkipSlow(int count)
    {
        while (count > 0)
        {
            ReadOnlySpan<byte> chunk = CurrentChunk();
            if (chunk.IsEmpty)
            {
                Overran(count);
                return;
            }

            int n = Math.Min(count, chunk.Length);
            _chunk = chunk[n..];
            count -= n;
        }
    }

    // The steps below hand the chunk over as a value: the reader's fields live behind a reference, and reading back what was
    // just stored would chain every step to the store before it.

    /// <summary>The unread bytes of the current chunk, or of the next one when it is used up; empty past the data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> CurrentChunk()
    {
        ReadOnlySpan<byte> chunk = _chunk;
        return chunk.IsEmpty ? NextChunk() : chunk;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> NextChunk()
    {
        if (_recordRemaining == 0 && !NextRecord())
        {
            return default;
        }

        ReadOnlySpan<byte> chunk = _cursor.Take(_recordRemaining);
        _chunk = chunk;
        _recordRemaining -= chunk.Length;
        _chunkEnd += chunk.Length;
        return chunk;
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // once per record: kept out of the loops that step through chunks
    private bool NextRecord()
    {
        // RFC 8446 §5.1: a handshake record, legacy_record_version 3.x, a fragment of 1 to 2^14 bytes. The parser may read
        // records no walk has checked: one that breaks these rules ends the data here, and the walk then names the fault.
        Unsafe.SkipInit(out HeaderBuffer room);
        scoped ReadOnlySpan<byte> header = _cursor.Current;
        if (header.Length >= RecordHeaderLength)
        {
            _cursor.Skip(RecordHeaderLength);
        }
        else
        {
            Span<byte> copy = room;
            if (_cursor.CopyUpTo(copy) < copy.Length)
            {
                return false;
            }

            header = copy;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(header[3..]);
        if (header[0] != ContentTypeHandshake || header[1] != 3 || length == 0 || length > MaxFragmentLength)
        {
            return false;
        }

        _records++;
        _recordRemaining = length;
        return true;
    }

    // Past the data, the position still moves so that length checks against it stay monotonic and loops end.
    private void Overran(int count)
    {
        _overrun = true;
        _chunkEnd += count;
    }
}
