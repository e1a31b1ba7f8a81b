using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// Reads a TLS ClientHello (TLS 1.0–1.3) from the first bytes of a connection without allocating or throwing, so a gateway
/// can route by server name before anything is decrypted.
/// </summary>
/// <remarks>
/// The parser is stateless: feed it everything received so far (a <c>PipeReader</c> buffer of any segmentation, or a span)
/// and parse again after more arrives. It accepts everything OpenSSL and BoringSSL accept from real clients and refuses
/// input that breaks the grammar of RFC 8446 §4.1.2 and §5.1, RFC 6066 §3 and RFC 7301 §3.1, naming the rule.
/// <para>
/// The grammar is written once, over the handshake message read by offset (<see cref="ClientHelloBody"/>,
/// <see cref="IHandshakeMessage"/>). The usual hello, one record received whole, is read as one span. A hello in several
/// records that has all arrived is read in one pass that checks each record header as it opens it (a small one copied out
/// of its records, a large one read where it lies, across record headers and segments); any other shape, and any record
/// fault, is walked record by record first (<see cref="ClientHelloRecords"/>), whose outcome outranks the grammar's. What the
/// result refers to is kept as offsets into the handshake stream and read back from the input itself.
/// </para>
/// </remarks>
[SkipLocalsInit]
public static class ClientHelloParser
{
    /// <summary>The default cap on the handshake message (header included): 64 KiB, as Envoy's tls_inspector.</summary>
    public const int DefaultMaxHandshakeLength = 64 * 1024;

    // A scattered message up to this size is gathered into a stack copy; a larger one is read where it lies.
    private const int MaxGatherLength = 4096;

    /// <summary>Parses a ClientHello from a span.</summary>
    /// <param name="input">The bytes received so far, from the first record header on.</param>
    /// <param name="hello">What was learnt; refers to <paramref name="input"/>.</param>
    /// <param name="maxHandshakeLength">Cap on the handshake message length, header included; larger hellos give <see cref="ClientHelloParseStatus.TooLarge"/>.</param>
    /// <returns>The outcome, also in <see cref="ClientHelloInfo.Status"/>.</returns>
    public static ClientHelloParseStatus Parse(ReadOnlySpan<byte> input, out ClientHelloInfo hello, int maxHandshakeLength = DefaultMaxHandshakeLength)
    {
        Unsafe.SkipInit(out hello);
        hello._span = input;
        hello._sequence = default;
        hello._fromSequence = false;
        Reset(ref hello, maxHandshakeLength);

        // The usual hello, one record all received in one span, needs no record walk: its two headers say it all.
        int length = WholeInOneRecordLength(input, input.Length, ref hello, maxHandshakeLength);
        if (length >= 0)
        {
            return ParseMessage(input.Slice(TlsWire.RecordHeaderLength, length), ref hello);
        }

        return ParseRecords(input, ref hello, maxHandshakeLength);
    }

    /// <summary>Parses a ClientHello from a sequence of any segmentation, such as a <c>PipeReader</c> buffer.</summary>
    /// <param name="input">The bytes received so far, from the first record header on.</param>
    /// <param name="hello">What was learnt; refers to <paramref name="input"/>'s memory.</param>
    /// <param name="maxHandshakeLength">Cap on the handshake message length, header included; larger hellos give <see cref="ClientHelloParseStatus.TooLarge"/>.</param>
    /// <returns>The outcome, also in <see cref="ClientHelloInfo.Status"/>.</returns>
    public static ClientHelloParseStatus Parse(in ReadOnlySequence<byte> input, out ClientHelloInfo hello, int maxHandshakeLength = DefaultMaxHandshakeLength)
    {
        // A caller's array wrapped in a sequence is read as a span over it: the framework's FirstSpan makes an out-of-line call
        // for an array (it is inlined only for the segments a PipeReader hands out). Asked first, and on its own: measured,
        // one call site for both spans cost the usual hello 1–2 % more.
        if (SequenceMarshal.TryGetArray(input, out ArraySegment<byte> array))
        {
            return Parse(array.AsSpan(), out hello, maxHandshakeLength);
        }

        if (input.IsSingleSegment)
        {
            return Parse(input.FirstSpan, out hello, maxHandshakeLength);
        }

        Unsafe.SkipInit(out hello);
        hello._span = default;
        hello._sequence = input;
        hello._fromSequence = true;
        Reset(ref hello, maxHandshakeLength);

        return ParseRecords(input, ref hello, maxHandshakeLength);
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // the usual hello does not pay for the cursor's frame
    private static ClientHelloParseStatus ParseRecords(ReadOnlySpan<byte> input, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        // Set up in place: a cursor copied whole right after its fields were written stalls on store forwarding.
        Unsafe.SkipInit(out ByteCursor cursor);
        cursor.Start(input);
        return ParseRecords(ref cursor, ref hello, maxHandshakeLength);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ClientHelloParseStatus ParseRecords(in ReadOnlySequence<byte> input, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        Unsafe.SkipInit(out ByteCursor cursor);
        cursor.Start(input);
        return ParseRecords(ref cursor, ref hello, maxHandshakeLength);
    }

    private static void Reset(ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHandshakeLength, TlsWire.HandshakeHeaderLength);

        hello._serverName = default;
        hello._serverNameCopied = false;
        hello._serverNameOffset = 0;
        hello._serverNameLength = 0;
        hello._hasServerName = false;
        hello._invalidReason = ClientHelloInvalidReason.None;
        hello._bytesConsumed = 0;
        hello._bytesMissing = 0;
        hello._recordCount = 0;
        hello._handshakeLength = 0;
        hello._legacyVersion = 0;
        hello._cipherSuiteCount = 0;
        hello._extensionCount = 0;
        hello._extensionsOffset = 0;
        hello._extensionsLength = 0;
        hello._alpnOffset = 0;
        hello._alpnLength = 0;
        hello._alpnCount = 0;
        hello._versionsOffset = 0;
        hello._versionsLength = 0;
        hello._hasEncryptedClientHello = false;
    }

    /// <summary>
    /// The usual hello: one record that holds exactly the whole ClientHello, all received. Every other shape, and every
    /// header a check would refuse, goes to the record walk, which reaches the same outcome for this one too.
    /// </summary>
    /// <param name="input">The first contiguous bytes received, from the record header on.</param>
    /// <param name="received">All the bytes received, <paramref name="input"/> and any segments after it.</param>
    /// <param name="hello">Receives the extent of the hello.</param>
    /// <param name="maxHandshakeLength">The size cap.</param>
    /// <returns>The handshake message length, or -1 when the input is not that usual hello.</returns>
    private static int WholeInOneRecordLength(ReadOnlySpan<byte> input, long received, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        int handshakeLength = FirstHelloLength(input);
        if (handshakeLength < 0)
        {
            return -1;
        }

        // RFC 8446 §5.1: a fragment of at most 2^14 bytes; here it carries exactly the handshake message, header included.
        int recordLength = BinaryPrimitives.ReadUInt16BigEndian(input[3..]);
        if (recordLength != handshakeLength || recordLength > TlsWire.MaxFragmentLength || handshakeLength > maxHandshakeLength
            || received - TlsWire.RecordHeaderLength < handshakeLength)
        {
            return -1;
        }

        hello._bytesConsumed = TlsWire.RecordHeaderLength + handshakeLength;
        hello._recordCount = 1;
        hello._handshakeLength = handshakeLength;
        return handshakeLength;
    }

    /// <summary>Every shape but the usual one: the record walk first, then the message, once the records hold all of it.</summary>
    /// <param name="cursor">A cursor at the first record header.</param>
    /// <param name="hello">Receives what was learnt.</param>
    /// <param name="maxHandshakeLength">The size cap.</param>
    private static ClientHelloParseStatus ParseRecords(ref ByteCursor cursor, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        // One whole record over several segments needs no walk either; anything else is walked first. The walk's outcome (not
        // TLS, a broken record, too large, more to come) outranks any grammar fault in what arrived.
        if (WholeInOneRecordLength(cursor.Current, cursor.Remaining, ref hello, maxHandshakeLength) < 0)
        {
            int whole = OnePassLength(cursor.Current, cursor.Remaining, maxHandshakeLength);
            if (whole > 0)
            {
                ClientHelloParseStatus done = whole <= MaxGatherLength
                    ? ParseGathered(ref cursor, ref hello, whole)
                    : ParseScatteredInOnePass(ref cursor, ref hello, whole);
                if (done != ClientHelloParseStatus.NeedMoreData)
                {
                    return done;
                }

                Reset(ref hello, maxHandshakeLength);
                cursor.Rewind();
            }

            ClientHelloParseStatus status = ClientHelloRecords.Scan(ref cursor, ref hello, maxHandshakeLength);
            if (status != ClientHelloParseStatus.Complete)
            {
                hello._status = status;
                return status;
            }

            // The walk stopped inside the records; the message is read from their start.
            cursor.Rewind();
        }

        // A message in one record that lies whole in one segment is read where it lies.
        int length = hello._handshakeLength;
        if (hello._recordCount == 1 && cursor.Current.Length >= TlsWire.RecordHeaderLength + length)
        {
            return ParseMessage(cursor.Current.Slice(TlsWire.RecordHeaderLength, length), ref hello);
        }

        return length <= MaxGatherLength ? ParseGathered(ref cursor, ref hello, length) : ParseScattered(ref cursor, ref hello);
    }

    /// <summary>
    /// The handshake message length of a hello in several records that may have all arrived, for a one-pass read: the
    /// first record carries the whole handshake header, both headers are ones the walk accepts, and the input holds at least
    /// one record header and the message. Otherwise -1, and the walk comes first.
    /// </summary>
    /// <remarks>
    /// A one-pass read crosses the records once instead of walking them and then reading them: its reader checks each record
    /// header as it opens it, as the walk would (<see cref="ScatteredReader"/>). Should a record break a rule, or bytes be
    /// missing, it says so (<see cref="ClientHelloParseStatus.NeedMoreData"/>) and the hello goes back, as it was, to the
    /// walk, which names the fault; a grammar fault over records found whole is the grammar's answer, as after the walk.
    /// </remarks>
    private static int OnePassLength(ReadOnlySpan<byte> head, long received, int maxHandshakeLength)
    {
        int length = FirstHelloLength(head);
        return length < 0 || BinaryPrimitives.ReadUInt16BigEndian(head[3..]) < TlsWire.HandshakeHeaderLength
            || length > maxHandshakeLength || received < TlsWire.RecordHeaderLength + length
            ? -1
            : length;
    }

    /// <summary>
    /// The handshake message length, header included, that the first bytes announce when they are a handshake record header
    /// (legacy_record_version 3.x) followed by a client_hello header; -1 otherwise, and the record walk decides.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FirstHelloLength(ReadOnlySpan<byte> head) =>
        head.Length < TlsWire.RecordHeaderLength + TlsWire.HandshakeHeaderLength
        || head[0] != TlsWire.ContentTypeHandshake || head[1] != 3 || head[TlsWire.RecordHeaderLength] != TlsWire.HandshakeTypeClientHello
            ? -1
            : TlsWire.HandshakeHeaderLength + ((head[6] << 16) | (head[7] << 8) | head[8]);

    /// <summary>
    /// The grammar over a copy of a small message (at most <see cref="MaxGatherLength"/> bytes) spread over records or
    /// segments, copied out of its records as they are checked; the server name is copied into the result (at most 255
    /// bytes). Copying a few hundred bytes once costs less than reading each field across boundaries. Used in one pass, and
    /// after the record walk, which has found the records whole.
    /// </summary>
    /// <param name="records">A cursor at the first record header.</param>
    /// <param name="hello">Receives what was learnt.</param>
    /// <param name="length">The handshake message length, header included.</param>
    /// <returns><see cref="ClientHelloParseStatus.NeedMoreData"/> when the records are not whole and well-formed: the walk answers then.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // its scratch stays out of the frames of the other paths
    private static ClientHelloParseStatus ParseGathered(ref ByteCursor records, ref ClientHelloInfo hello, int length)
    {
        // Only the message's bytes are copied, never the input. Not zeroed ([SkipLocalsInit]): the copy writes every byte the
        // grammar reads.
        Span<byte> message = stackalloc byte[MaxGatherLength];
        message = message[..length];
        var reader = new ScatteredReader(ref records, length);
        if (!reader.TryCopyWhole(message, out int count))
        {
            return ClientHelloParseStatus.NeedMoreData;
        }

        // After the walk these are the values it noted (5 bytes of header per record and the message).
        NoteRecords(ref hello, count, length);
        return ParseCopy(message, ref hello);
    }

    /// <summary>A message over <see cref="MaxGatherLength"/> bytes read where it lies, its records checked as they are opened.</summary>
    /// <returns><see cref="ClientHelloParseStatus.NeedMoreData"/> when the records are not whole and well-formed, or the
    /// grammar stopped before their end: the walk answers then.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // its reader stays out of the frames of the other paths
    private static ClientHelloParseStatus ParseScatteredInOnePass(ref ByteCursor cursor, ref ClientHelloInfo hello, int length)
    {
        var reader = new ScatteredReader(ref cursor, length);
        ClientHelloInvalidReason reason = ClientHelloBody.Parse(new ScatteredMessage(ref reader), ref hello);
        if (reason != ClientHelloInvalidReason.None || !reader.TryFinishRecords(out int records))
        {
            return ClientHelloParseStatus.NeedMoreData;
        }

        NoteRecords(ref hello, records, length);
        if (hello._hasServerName)
        {
            TakeServerName(ref reader, ref hello);
        }

        return Finish(ref hello, ClientHelloInvalidReason.None);
    }

    /// <summary>What the walk would have noted for records found to carry exactly the message.</summary>
    private static void NoteRecords(ref ClientHelloInfo hello, int records, int length)
    {
        hello._recordCount = records;
        hello._handshakeLength = length;
        hello._bytesConsumed = (TlsWire.RecordHeaderLength * records) + length;
    }

    /// <summary>Points the result at the server name where it lies in one run of the input, or copies it when it straddles.</summary>
    private static void TakeServerName(ref ScatteredReader reader, ref ClientHelloInfo hello)
    {
        int offset = hello._serverNameOffset, length = hello._serverNameLength;
        if (reader.TryGetContiguous(offset, length, out ReadOnlySpan<byte> name))
        {
            hello._serverName = name;
        }
        else
        {
            reader.CopyTo(offset, ((Span<byte>)hello._serverNameCopy)[..length]);
            hello._serverNameCopied = true;
        }
    }

    /// <summary>The grammar over a message that lies in one span of the input, to which the server name then points.</summary>
    private static ClientHelloParseStatus ParseMessage(ReadOnlySpan<byte> message, ref ClientHelloInfo hello)
    {
        var contiguous = new ContiguousMessage(message);
        ClientHelloInvalidReason reason = ClientHelloBody.Parse(contiguous, ref hello);
        if (reason == ClientHelloInvalidReason.None && hello._hasServerName)
        {
            hello._serverName = message.Slice(hello._serverNameOffset, hello._serverNameLength);
        }

        return Finish(ref hello, reason);
    }

    /// <summary>The grammar over a copy of the message; the server name is copied into the result (at most 255 bytes).</summary>
    private static ClientHelloParseStatus ParseCopy(scoped ReadOnlySpan<byte> message, ref ClientHelloInfo hello)
    {
        ClientHelloInvalidReason reason = ClientHelloBody.Parse(new ContiguousMessage(message), ref hello);
        if (reason == ClientHelloInvalidReason.None && hello._hasServerName)
        {
            message.Slice(hello._serverNameOffset, hello._serverNameLength).CopyTo(hello._serverNameCopy);
            hello._serverNameCopied = true;
        }

        return Finish(ref hello, reason);
    }

    /// <summary>
    /// The grammar over a larger message spread over records or segments, read where it lies: a copy would cost more than
    /// the few reads that cross a boundary. The server name points into the input when it lies in one record of one segment,
    /// and is copied into the result (at most 255 bytes) when it straddles.
    /// </summary>
    /// <param name="records">A cursor at the first record header of records the walk found to hold the whole message.</param>
    /// <param name="hello">Receives what was learnt.</param>
    [MethodImpl(MethodImplOptions.NoInlining)] // its reader stays out of the frames of the other paths
    private static ClientHelloParseStatus ParseScattered(ref ByteCursor records, ref ClientHelloInfo hello)
    {
        var reader = new ScatteredReader(ref records, hello._handshakeLength);
        ClientHelloInvalidReason reason = ClientHelloBody.Parse(new ScatteredMessage(ref reader), ref hello);
        if (reason == ClientHelloInvalidReason.None && hello._hasServerName)
        {
            TakeServerName(ref reader, ref hello);
        }

        return Finish(ref hello, reason);
    }

    private static ClientHelloParseStatus Finish(ref ClientHelloInfo hello, ClientHelloInvalidReason reason)
    {
        ClientHelloParseStatus status = ClientHelloParseStatus.Complete;
        if (reason != ClientHelloInvalidReason.None)
        {
            status = ClientHelloParseStatus.Invalid;
            hello._invalidReason = reason;
            hello._bytesConsumed = 0;
            hello._hasServerName = false;
            hello._serverName = default;
            hello._serverNameCopied = false;
        }

        hello._status = status;
        return status;
    }
}
