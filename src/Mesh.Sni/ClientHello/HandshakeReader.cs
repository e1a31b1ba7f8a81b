using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// Reads the handshake byte stream that a run of TLS records carries, stepping over each 5-byte record header and across
/// input segments, so that a message spread over records and segments reads as one stream: the enumerators of
/// <see cref="ClientHelloInfo"/> read the lists the parser found through it.
/// </summary>
/// <remarks>
/// It reads records that the record walk has already checked. A read past the data, or into a record that is not a
/// well-formed handshake record, returns zeros instead of throwing, so that misuse can never read outside the input.
/// </remarks>
internal ref struct HandshakeReader
{
    private ReadOnlySpan<byte> _chunk;
    private ByteCursor _cursor;
    private int _recordRemaining;

    /// <summary>Starts at the first handshake byte of the records that begin the input, set up in place.</summary>
    internal void Start(ReadOnlySpan<byte> input)
    {
        _cursor.Start(input);
        _chunk = default;
        _recordRemaining = 0;
    }

    /// <inheritdoc cref="Start(ReadOnlySpan{byte})"/>
    internal void Start(scoped in ReadOnlySequence<byte> input)
    {
        _cursor.Start(input);
        _chunk = default;
        _recordRemaining = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte ReadUInt8()
    {
        ReadOnlySpan<byte> chunk = CurrentChunk();
        if (chunk.IsEmpty)
        {
            return 0;
        }

        _chunk = chunk[1..];
        return chunk[0];
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

        return (ReadUInt8() << 8) | ReadUInt8();
    }

    /// <summary>Moves past <paramref name="count"/> bytes.</summary>
    internal void Skip(int count)
    {
        while (count > 0)
        {
            ReadOnlySpan<byte> chunk = CurrentChunk();
            if (chunk.IsEmpty)
            {
                return;
            }

            int n = Math.Min(count, chunk.Length);
            _chunk = chunk[n..];
            count -= n;
        }
    }

    /// <summary>Reads <paramref name="count"/> bytes straight from the input when they are contiguous there.</summary>
    /// <returns>False, having read nothing, when they straddle a record or segment boundary.</returns>
    internal bool TryReadContiguous(int count, out ReadOnlySpan<byte> bytes)
    {
        ReadOnlySpan<byte> chunk = count > 0 ? CurrentChunk() : _chunk;
        if (chunk.Length >= count)
        {
            bytes = chunk[..count];
            _chunk = chunk[count..];
            return true;
        }

        bytes = default;
        return false;
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
                return;
            }

            int n = Math.Min(destination.Length - done, chunk.Length);
            chunk[..n].CopyTo(destination[done..]);
            _chunk = chunk[n..];
            done += n;
        }
    }

    /// <summary>The unread bytes of the current chunk, or of the next one when it is used up; empty past the data.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> CurrentChunk()
    {
        ReadOnlySpan<byte> chunk = _chunk;
        return chunk.IsEmpty ? NextChunk() : chunk;
    }

    private ReadOnlySpan<byte> NextChunk()
    {
        if (_recordRemaining == 0 && !NextRecord())
        {
            return default;
        }

        ReadOnlySpan<byte> chunk = _cursor.Take(_recordRemaining);
        _chunk = chunk;
        _recordRemaining -= chunk.Length;
        return chunk;
    }

    private bool NextRecord()
    {
        // The walk has checked the records a parse reads; one that breaks the rules ends the data here all the same.
        int length = _cursor.TakeHandshakeRecordHeader();
        if (length < 0)
        {
            return false;
        }

        _recordRemaining = length;
        return true;
    }
}
