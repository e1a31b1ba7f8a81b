using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// Reads a handshake message spread over several records, or over segments of a sequence, where it lies: nothing is
/// gathered. Each read is a span read from the current contiguous run (part of one record in one segment); a read beyond it
/// steps forward, over record headers (RFC 8446 §5.1) and segment boundaries. The grammar reaches it through
/// <see cref="ScatteredMessage"/>, so that every rule moves the one position on.
/// </summary>
/// <remarks>
/// It checks each record header as it opens it, as the record walk does, and stops at the first that breaks a rule, runs
/// past the message or has not all arrived: reads from there give zeros, and the parser leaves the hello to the walk. So a
/// run never reaches past the message or the input. The grammar reads forward: a step back (the server name, taken once
/// the grammar is done) starts over from the first record.
/// </remarks>
internal unsafe ref struct ScatteredReader
{
    // The current run: message bytes from _runStart on, contiguous in the input; the cursor stands just past it, with
    // _recordLeft bytes of the current record still ahead.
    private ReadOnlySpan<byte> _run;
    private int _runStart;
    private int _recordLeft;
    private readonly int _length;

    // The records opened so far, their fragments' total, and whether one of them broke a rule (reads then give zeros).
    private int _records;
    private int _fragments;
    private bool _broken;

    // The record cursor itself, a local of the parser's frame, not a copy: a copy of its hundred bytes, made right after
    // Start wrote them field by field, stalls on store forwarding (see ScatteredMessage for why a pointer is sound).
    private readonly void* _cursor;

    /// <summary>Reads the message of <paramref name="length"/> bytes carried by the records at which <paramref name="records"/> stands.</summary>
    /// <param name="records">A cursor where it was started, at the first record header: a local of the caller's frame, which
    /// the reader moves on and must not outlive.</param>
    /// <param name="length">The handshake message length.</param>
    internal ScatteredReader(scoped ref ByteCursor records, int length)
    {
        _cursor = Unsafe.AsPointer(ref records);
        _run = default;
        _runStart = 0;
        _recordLeft = 0;
        _length = length;
        _records = 0;
        _fragments = 0;
        _broken = false;
    }

    internal readonly int Length => _length;

    private readonly ref ByteCursor Cursor
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Unsafe.AsRef<ByteCursor>(_cursor);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte ReadUInt8(int offset)
    {
        int at = offset - _runStart;
        return (uint)at < (uint)_run.Length ? _run[at] : ReadUInt8Elsewhere(offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int ReadUInt16(int offset)
    {
        int at = offset - _runStart;
        return at >= 0 && at <= _run.Length - 2
            ? BinaryPrimitives.ReadUInt16BigEndian(_run[at..])
            : ReadUInt16Elsewhere(offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal uint ReadUInt32(int offset)
    {
        int at = offset - _runStart;
        return at >= 0 && at <= _run.Length - 4
            ? BinaryPrimitives.ReadUInt32BigEndian(_run[at..])
            : ReadUInt32Elsewhere(offset);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ReadOnlySpan<byte> ReadRun(int offset, int maxLength)
    {
        int at = offset - _runStart;
        if ((uint)at >= (uint)_run.Length)
        {
            if (!StepTo(offset))
            {
                return default;
            }

            at = 0;
        }

        ReadOnlySpan<byte> run = _run[at..];
        return run.Length <= maxLength ? run : run[..maxLength];
    }

    internal bool ContainsNonPrintableAscii(int offset, int length)
    {
        while (length > 0 && MoveTo(offset))
        {
            int n = Math.Min(length, _run.Length);
            if (PrintableAscii.ContainsAnyOther(_run[..n]))
            {
                return true;
            }

            offset += n;
            length -= n;
        }

        return false;
    }

    /// <summary>The <paramref name="length"/> bytes at <paramref name="offset"/>, when they lie in one run of the input.</summary>
    /// <returns>False when they straddle a record or segment boundary.</returns>
    internal bool TryGetContiguous(int offset, int length, out ReadOnlySpan<byte> bytes)
    {
        if (MoveTo(offset) && _run.Length >= length)
        {
            bytes = _run[..length];
            return true;
        }

        bytes = default;
        return false;
    }

    /// <summary>Copies the <paramref name="destination"/>.Length bytes at <paramref name="offset"/>, across boundaries.</summary>
    internal void CopyTo(int offset, scoped Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            if (!MoveTo(offset))
            {
                destination.Clear();
                return;
            }

            int n = Math.Min(destination.Length, _run.Length);
            _run[..n].CopyTo(destination);
            destination = destination[n..];
            offset += n;
        }
    }

    /// <summary>Copies the whole message out of its records, checking each record as it opens it.</summary>
    /// <param name="destination">Room for exactly the message.</param>
    /// <param name="records">How many records carry the message.</param>
    /// <returns>Whether the records carry exactly the message, as <see cref="TryFinishRecords"/> says.</returns>
    internal bool TryCopyWhole(scoped Span<byte> destination, out int records)
    {
        CopyTo(0, destination);
        records = _records;
        return !_broken && _fragments == _length;
    }

    /// <summary>
    /// Reads on to the message's last byte and says whether the records carry exactly the message: every one a well-formed
    /// handshake record that has all arrived, the last ending where the message ends (RFC 8446 §5.1: a ClientHello, which
    /// precedes a key change, ends at a record boundary).
    /// </summary>
    /// <param name="records">How many records carry the message.</param>
    internal bool TryFinishRecords(out int records)
    {
        bool whole = MoveTo(_length - 1) && _fragments == _length;
        records = _records;
        return whole;
    }

    // Once per boundary, out of line: the reads above stay small enough to inline.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private byte ReadUInt8Elsewhere(int offset) => MoveTo(offset) ? _run[0] : (byte)0;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int ReadUInt16Elsewhere(int offset) => (ReadUInt8(offset) << 8) | ReadUInt8(offset + 1);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private uint ReadUInt32Elsewhere(int offset) => ((uint)ReadUInt16(offset) << 16) | (uint)ReadUInt16(offset + 2);

    /// <summary>Makes the current run start at <paramref name="offset"/>, past the current one.</summary>
    /// <remarks>
    /// A loop over runs (an ALPN list) asks for the bytes straight after the run it has read, in the same record: the next
    /// segment's part of it. That step takes it from the cursor and stores it once; anything else (a record header to step
    /// over, a seek, a step back) goes the general way. Out of line, and the general way out of line again, so that the loop
    /// keeps its registers and this step stays short. It answers in a register and leaves the run in its fields, which the
    /// caller reads back field by field: a span returned from an out-of-line call goes through a stack slot written as 8 + 4
    /// bytes and read back as 8 + 8, a store-forwarding stall once per segment.
    /// </remarks>
    /// <returns>False when <paramref name="offset"/> lies outside the message (see <see cref="MoveTo"/>).</returns>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool StepTo(int offset)
    {
        int recordLeft = _recordLeft;
        if (recordLeft > 0 && offset == _runStart + _run.Length && offset < _length)
        {
            ReadOnlySpan<byte> run = Cursor.Take(recordLeft);
            _recordLeft = recordLeft - run.Length;
            _run = run;
            _runStart = offset;
            return !run.IsEmpty;
        }

        return MoveTo(offset);
    }

    /// <summary>Makes the current run start at <paramref name="offset"/>.</summary>
    /// <returns>False when <paramref name="offset"/> lies outside the message (or, on misuse, outside well-formed records).</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // a seek: kept out of the loops over runs and of the step above
    private bool MoveTo(int offset)
    {
        if ((uint)offset >= (uint)_length)
        {
            return false;
        }

        if (offset < _runStart)
        {
            Cursor.Rewind();
            _run = default;
            _runStart = 0;
            _recordLeft = 0;
            _records = 0;
            _fragments = 0;
            _broken = false;
        }

        int at = offset - _runStart;
        if (at < _run.Length)
        {
            _run = _run[at..];
            _runStart = offset;
            return true;
        }

        // Past the run: step over whole records by their headers, then over the bytes before the offset in its record.
        int gap = at - _run.Length;
        while (true)
        {
            if (_recordLeft == 0 && !NextRecord())
            {
                _run = default;
                return false;
            }

            if (gap < _recordLeft)
            {
                break;
            }

            Cursor.Skip(_recordLeft);
            gap -= _recordLeft;
            _recordLeft = 0;
        }

        if (gap > 0)
        {
            Cursor.Skip(gap);
            _recordLeft -= gap;
        }

        _run = Cursor.Take(_recordLeft);
        _recordLeft -= _run.Length;
        _runStart = offset;
        return !_run.IsEmpty;
    }

    /// <summary>Steps over the next record header, checking it as the record walk does (RFC 8446 §5.1).</summary>
    /// <returns>False, from then on, at a record that is not a well-formed handshake record within the message, or that
    /// has not all arrived: the parser then leaves the outcome to the record walk.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // once per record: kept out of the step within one
    private bool NextRecord()
    {
        if (_broken)
        {
            return false;
        }

        // One that has all arrived and does not run past the message.
        int length = Cursor.TakeHandshakeRecordHeader();
        if (length < 0 || length > _length - _fragments || length > Cursor.Remaining)
        {
            _broken = true;
            return false;
        }

        _fragments += length;
        _records++;
        _recordLeft = length;
        return true;
    }
}
