using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// Reads a TLS ClientHello (TLS 1.0–1.3) from the first bytes of a connection without copying the message, allocating or
/// throwing, so a gateway can route by server name before anything is decrypted.
/// </summary>
/// <remarks>
/// The parser is stateless: feed it everything received so far (a <c>PipeReader</c> buffer of any segmentation, or a span)
/// and parse again after more arrives. It accepts everything OpenSSL and BoringSSL accept from real clients and refuses
/// input that breaks the grammar of RFC 8446 §4.1.2 and §5.1, RFC 6066 §3 and RFC 7301 §3.1, naming the rule.
/// </remarks>
[SkipLocalsInit]
public static class ClientHelloParser
{
    /// <summary>The default cap on the handshake message (header included): 64 KiB, as Envoy's tls_inspector.</summary>
    public const int DefaultMaxHandshakeLength = 64 * 1024;

    private const byte ContentTypeHandshake = 22;
    private const byte HandshakeTypeClientHello = 1;
    private const int RecordHeaderLength = 5;
    private const int HandshakeHeaderLength = 4;
    private const int MaxFragmentLength = 1 << 14;
    private const int MaxSessionIdLength = 32;
    private const int MaxHostNameLength = 255;

    private const ushort ExtensionServerName = 0;
    private const ushort ExtensionAlpn = 16;
    private const ushort ExtensionSupportedVersions = 43;
    private const ushort ExtensionPreSharedKey = ExtensionTypeSet.PreSharedKeyType;
    private const ushort ExtensionEncryptedClientHello = 0xfe0d;

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

        // The usual hello, one record all received in one span, is parsed with local offsets and nothing else on the stack:
        // the record walk and the reader stay in frames of their own, whose set-up this path does not pay. The tests and the
        // fuzz harness compare it with the reader on every split of every input.
        if (IsWholeInOneRecord(input, ref hello, maxHandshakeLength))
        {
            int length = hello._handshakeLength;
            return Finish(ref hello, ClientHelloParseStatus.Complete, ParseHandshake(input.Slice(RecordHeaderLength, length), length, ref hello, out _, out _));
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ClientHelloParseStatus ParseRecords(ReadOnlySpan<byte> input, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        // Set up in place: a reader copied whole right after its fields were written stalls on store forwarding.
        Unsafe.SkipInit(out HandshakeReader reader);
        reader.Start(input);
        return TryParseInOnePass(ref reader, ref hello, maxHandshakeLength)
            ? ClientHelloParseStatus.Complete
            : ParseAfterRecordWalk(input, ref hello, maxHandshakeLength);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ClientHelloParseStatus ParseRecords(in ReadOnlySequence<byte> input, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        Unsafe.SkipInit(out HandshakeReader reader);
        reader.Start(input);
        return TryParseInOnePass(ref reader, ref hello, maxHandshakeLength)
            ? ClientHelloParseStatus.Complete
            : ParseAfterRecordWalk(input, ref hello, maxHandshakeLength);
    }

    /// <summary>
    /// Parses the message through the reader, which checks each record header as it opens it, without walking the record
    /// layer first: a complete, well-formed hello crosses its records once. Anything else (a fault in a record, too little
    /// data, records that run past the message, a grammar fault) is left to <see cref="ParseAfterRecordWalk(ReadOnlySpan{byte}, ref ClientHelloInfo, int)"/>,
    /// which gives the outcome a walk first would give, so a record fault or missing data still outranks a grammar fault.
    /// </summary>
    /// <returns>True when the hello is complete and valid, with <paramref name="hello"/> finished.</returns>
    private static bool TryParseInOnePass(ref HandshakeReader reader, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        // Too few bytes for even one record holding the message: the walk answers how many more are needed, without this read.
        // (A hello arriving in many pieces is parsed on each; reading its body each time would cost the square of its size.)
        int end = HandshakeLengthAhead(reader.UnreadContiguous, maxHandshakeLength);
        if (end < 0 || reader.UnreadLength < RecordHeaderLength + end)
        {
            return false;
        }

        hello._handshakeLength = end;
        if (ParseHandshake(ref reader, ref hello) != ClientHelloInvalidReason.None
            || reader.Overrun || reader.Position != end || !reader.AtRecordEnd)
        {
            return false;
        }

        hello._recordCount = reader.RecordCount;
        hello._bytesConsumed = (reader.RecordCount * RecordHeaderLength) + end;
        Finish(ref hello, ClientHelloParseStatus.Complete, ClientHelloInvalidReason.None);
        return true;
    }

    /// <summary>
    /// The handshake message length from the first record and handshake headers, when both lie in
    /// <paramref name="input"/> and describe an acceptable ClientHello start; otherwise -1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HandshakeLengthAhead(ReadOnlySpan<byte> input, int maxHandshakeLength)
    {
        if (input.Length < RecordHeaderLength + HandshakeHeaderLength
            || input[0] != ContentTypeHandshake || input[1] != 3 || input[RecordHeaderLength] != HandshakeTypeClientHello)
        {
            return -1;
        }

        int recordLength = BinaryPrimitives.ReadUInt16BigEndian(input[3..]);
        int handshakeLength = HandshakeHeaderLength + ((input[6] << 16) | (input[7] << 8) | input[8]);
        return recordLength < HandshakeHeaderLength || recordLength > MaxFragmentLength || handshakeLength > maxHandshakeLength
            ? -1
            : handshakeLength;
    }

    /// <summary>The record walk first, then the message through the reader: what every input the one pass did not finish gets.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ClientHelloParseStatus ParseAfterRecordWalk(ReadOnlySpan<byte> input, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        Unsafe.SkipInit(out ByteCursor walk);
        walk.Start(input);
        Unsafe.SkipInit(out HandshakeReader reader);
        reader.Start(input);
        return ParseAfterRecordWalk(ref walk, ref reader, ref hello, maxHandshakeLength);
    }

    /// <inheritdoc cref="ParseAfterRecordWalk(ReadOnlySpan{byte}, ref ClientHelloInfo, int)"/>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ClientHelloParseStatus ParseAfterRecordWalk(in ReadOnlySequence<byte> input, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        Unsafe.SkipInit(out ByteCursor walk);
        walk.Start(input);
        Unsafe.SkipInit(out HandshakeReader reader);
        reader.Start(input);
        return ParseAfterRecordWalk(ref walk, ref reader, ref hello, maxHandshakeLength);
    }

    private static ClientHelloParseStatus ParseAfterRecordWalk(ref ByteCursor walk, ref HandshakeReader reader, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        // What the one pass learnt goes: the outcome is the walk's, or the grammar's over records the walk found whole.
        Reset(ref hello, maxHandshakeLength);
        ClientHelloParseStatus status = ScanRecords(ref walk, ref hello, maxHandshakeLength);
        return status == ClientHelloParseStatus.Complete ? ParseCore(ref reader, ref hello) : Finish(ref hello, status, ClientHelloInvalidReason.None);
    }

    private static void Reset(ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHandshakeLength, HandshakeHeaderLength);

        hello._serverName = default;
        hello._serverNameCopied = false;
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

    /// <summary>Every shape but the usual one, once the record walk has found the whole hello: the message through the record reader.</summary>
    /// <param name="reader">A reader at the first record, not yet read from.</param>
    /// <param name="hello">Receives what was learnt.</param>
    private static ClientHelloParseStatus ParseCore(ref HandshakeReader reader, ref ClientHelloInfo hello)
    {
        // A span that holds a whole one-record hello never gets here (Parse took it), so every hello here goes through the
        // reader: several records, or one over several segments.
        ClientHelloInvalidReason reason = ParseHandshake(ref reader, ref hello);
        if (reason == ClientHelloInvalidReason.None && reader.Overrun)
        {
            reason = ClientHelloInvalidReason.BodyTruncated;
        }

        return Finish(ref hello, ClientHelloParseStatus.Complete, reason);
    }

    private static ClientHelloParseStatus Finish(ref ClientHelloInfo hello, ClientHelloParseStatus status, ClientHelloInvalidReason reason)
    {
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

    /// <summary>
    /// The usual hello, answered from its two headers: one record that holds exactly the whole ClientHello, all received in
    /// one span. Every other shape, and every header a check would refuse, goes to the record reader and, failing that, to
    /// <see cref="ScanRecords"/>, which reach the same outcome for this one too.
    /// </summary>
    /// <param name="input">All the bytes received.</param>
    /// <param name="hello">Receives the extent of the hello.</param>
    /// <param name="maxHandshakeLength">The size cap.</param>
    private static bool IsWholeInOneRecord(ReadOnlySpan<byte> input, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        int handshakeLength = HandshakeLengthAhead(input, maxHandshakeLength);
        if (handshakeLength < 0 || BinaryPrimitives.ReadUInt16BigEndian(input[3..]) != handshakeLength
            || input.Length - RecordHeaderLength < handshakeLength)
        {
            return false;
        }

        hello._bytesConsumed = RecordHeaderLength + handshakeLength;
        hello._recordCount = 1;
        hello._handshakeLength = handshakeLength;
        return true;
    }

    /// <summary>Walks the record layer until the records hold the whole handshake message, checking each header as it comes.</summary>
    /// <remarks>
    /// RFC 8446 §5.1:
    /// <code>
    /// struct {
    ///     ContentType type;                  /* handshake(22) */
    ///     ProtocolVersion legacy_record_version;
    ///     uint16 length;                     /* MUST NOT exceed 2^14 */
    ///     opaque fragment[TLSPlaintext.length];
    /// } TLSPlaintext;
    /// </code>
    /// "Handshake messages MAY be coalesced into a single TLSPlaintext record or fragmented across several records";
    /// "Implementations MUST NOT send zero-length fragments of Handshake types"; "if a handshake message is split over two
    /// or more records, there MUST NOT be any other records between them"; and a message preceding a key change (the
    /// ClientHello, for a server) must end at a record boundary. RFC 8446 §4:
    /// <code>
    /// struct {
    ///     HandshakeType msg_type;    /* client_hello(1) */
    ///     uint24 length;             /* remaining bytes in message */
    ///     ...
    /// } Handshake;
    /// </code>
    /// </remarks>
    private static ClientHelloParseStatus ScanRecords(ref ByteCursor cursor, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        Span<byte> header = stackalloc byte[RecordHeaderLength];
        Span<byte> handshakeHeader = stackalloc byte[HandshakeHeaderLength];
        int handshakeHeaderHave = 0;
        int handshakeLength = -1;
        int fragmentTotal = 0;
        int consumed = 0;
        int records = 0;

        while (true)
        {
            int got = cursor.CopyUpTo(header);
            if (got >= 1 && header[0] != ContentTypeHandshake)
            {
                return records == 0
                    ? ClientHelloParseStatus.NotTls
                    : Invalid(ref hello, ClientHelloInvalidReason.UnexpectedContentType);
            }

            if (got >= 2 && header[1] != 3)
            {
                return Invalid(ref hello, ClientHelloInvalidReason.BadRecordVersion);
            }

            if (got < RecordHeaderLength)
            {
                int rest = handshakeLength >= 0
                    ? MinimumRecordBytes(handshakeLength - fragmentTotal)
                    : RecordHeaderLength + Math.Max(1, HandshakeHeaderLength - handshakeHeaderHave);
                return NeedMore(ref hello, rest - got);
            }

            int length = (header[3] << 8) | header[4];
            if (length > MaxFragmentLength)
            {
                return Invalid(ref hello, ClientHelloInvalidReason.RecordTooLong);
            }

            if (length == 0)
            {
                return Invalid(ref hello, ClientHelloInvalidReason.EmptyRecord);
            }

            records++;
            int available = (int)Math.Min(length, cursor.Remaining);
            int readHere = 0;
            if (handshakeHeaderHave < HandshakeHeaderLength)
            {
                readHere = Math.Min(HandshakeHeaderLength - handshakeHeaderHave, available);
                cursor.CopyUpTo(handshakeHeader.Slice(handshakeHeaderHave, readHere));
                handshakeHeaderHave += readHere;
                if (handshakeHeaderHave > 0 && handshakeHeader[0] != HandshakeTypeClientHello)
                {
                    return Invalid(ref hello, ClientHelloInvalidReason.NotClientHello);
                }

                if (handshakeHeaderHave == HandshakeHeaderLength)
                {
                    handshakeLength = HandshakeHeaderLength + ((handshakeHeader[1] << 16) | (handshakeHeader[2] << 8) | handshakeHeader[3]);
                    if (handshakeLength > maxHandshakeLength)
                    {
                        return TooLarge(ref hello, handshakeLength);
                    }
                }
            }

            if (handshakeLength >= 0 && fragmentTotal + length > handshakeLength)
            {
                return Invalid(ref hello, ClientHelloInvalidReason.DataAfterClientHello);
            }

            if (available < length)
            {
                int rest = handshakeLength >= 0 ? MinimumRecordBytes(handshakeLength - fragmentTotal - length) : 0;
                return NeedMore(ref hello, length - available + rest);
            }

            fragmentTotal += length;
            consumed += RecordHeaderLength + length;
            if (fragmentTotal == handshakeLength)
            {
                // The last record is not stepped over: nothing after it is read, and over a sequence the step would visit
                // every segment it spans.
                hello._bytesConsumed = consumed;
                hello._recordCount = records;
                hello._handshakeLength = handshakeLength;
                return ClientHelloParseStatus.Complete;
            }

            cursor.Skip(length - readHere);
        }
    }

    /// <summary>The fewest bytes (record headers included) that can carry <paramref name="fragmentBytes"/> more handshake bytes.</summary>
    private static int MinimumRecordBytes(int fragmentBytes) =>
        fragmentBytes <= 0 ? 0 : fragmentBytes + (RecordHeaderLength * ((fragmentBytes + MaxFragmentLength - 1) / MaxFragmentLength));

    private static ClientHelloParseStatus NeedMore(ref ClientHelloInfo hello, int missing)
    {
        hello._bytesMissing = Math.Max(1, missing);
        return ClientHelloParseStatus.NeedMoreData;
    }

    private static ClientHelloParseStatus Invalid(ref ClientHelloInfo hello, ClientHelloInvalidReason reason)
    {
        hello._invalidReason = reason;
        return ClientHelloParseStatus.Invalid;
    }

    private static ClientHelloParseStatus TooLarge(ref ClientHelloInfo hello, int handshakeLength)
    {
        hello._handshakeLength = handshakeLength;
        return ClientHelloParseStatus.TooLarge;
    }

    /// <summary>
    /// Parses the ClientHello body through the reader. Lengths are checked against the message length, not against what was
    /// received: a read past the data only marks the reader, and the caller then lets the record walk decide.
    /// </summary>
    /// <remarks>
    /// RFC 8446 §4.1.2 (RFC 5246 §7.4.1.2 for TLS 1.0–1.2, where the extensions block may be absent):
    /// <code>
    /// uint16 ProtocolVersion;
    /// opaque Random[32];
    /// uint8 CipherSuite[2];
    ///
    /// struct {
    ///     ProtocolVersion legacy_version = 0x0303;    /* TLS v1.2 */
    ///     Random random;
    ///     opaque legacy_session_id&lt;0..32&gt;;
    ///     CipherSuite cipher_suites&lt;2..2^16-2&gt;;
    ///     opaque legacy_compression_methods&lt;1..2^8-1&gt;;
    ///     Extension extensions&lt;8..2^16-1&gt;;
    /// } ClientHello;
    /// </code>
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)] // its own frame: inlined, its extension walk runs out of registers
    private static ClientHelloInvalidReason ParseHandshake(ref HandshakeReader reader, ref ClientHelloInfo hello)
    {
        int end = hello._handshakeLength;

        // The fields before the extensions nearly always lie in the first record and segment: read them as a span, and the
        // extensions too when they follow there. The reader takes over where the message leaves the span, at the field that
        // does, with the fields before it already read and checked.
        ClientHelloInvalidReason headReason = ParseHandshake(reader.PeekContiguous(end), end, ref hello, out HeadField field, out int fieldOffset);
        if (headReason != ClientHelloInvalidReason.None || field == HeadField.None)
        {
            return headReason;
        }

        // The bytes of the message after the reader's position, counted here (see HandshakeReader.Position).
        reader.Skip(fieldOffset);
        int rest = end - fieldOffset;
        switch (field)
        {
            case HeadField.LegacyVersion:
                // ProtocolVersion legacy_version; Random random;
                hello._legacyVersion = (ushort)reader.ReadUInt16();
                reader.Skip(32);

                // opaque legacy_session_id<0..32>;
                int sessionIdLength = reader.ReadUInt8();
                rest -= 2 + 32 + 1;
                ClientHelloInvalidReason reason = CheckSessionId(sessionIdLength, rest);
                if (reason != ClientHelloInvalidReason.None)
                {
                    return reason;
                }

                reader.Skip(sessionIdLength);
                rest -= sessionIdLength;
                if (rest < 2)
                {
                    return ClientHelloInvalidReason.BodyTruncated;
                }

                goto case HeadField.CipherSuites;

            case HeadField.CipherSuites:
                // CipherSuite cipher_suites<2..2^16-2>;
                int cipherSuitesLength = reader.ReadUInt16();
                rest -= 2;
                reason = CheckCipherSuites(cipherSuitesLength, rest);
                if (reason != ClientHelloInvalidReason.None)
                {
                    return reason;
                }

                hello._cipherSuiteCount = cipherSuitesLength / 2;
                reader.Skip(cipherSuitesLength);
                rest -= cipherSuitesLength;
                if (rest < 1)
                {
                    return ClientHelloInvalidReason.BodyTruncated;
                }

                goto case HeadField.CompressionMethods;

            case HeadField.CompressionMethods:
                // opaque legacy_compression_methods<1..2^8-1>;
                int compressionLength = reader.ReadUInt8();
                rest -= 1;
                reason = CheckCompressionMethods(compressionLength, rest);
                if (reason != ClientHelloInvalidReason.None)
                {
                    return reason;
                }

                reader.Skip(compressionLength);
                rest -= compressionLength;
                if (rest < 2)
                {
                    // No extensions (TLS 1.0-1.2), or one byte where their length belongs.
                    return rest == 0 ? ClientHelloInvalidReason.None : ClientHelloInvalidReason.ExtensionsLengthTruncated;
                }

                goto case HeadField.ExtensionsLength;

            case HeadField.ExtensionsLength:
                int extensionsLength = reader.ReadUInt16();
                rest -= 2;
                reason = CheckExtensionsLength(extensionsLength, rest);
                if (reason != ClientHelloInvalidReason.None)
                {
                    return reason;
                }

                hello._extensionsOffset = end - rest;
                hello._extensionsLength = extensionsLength;
                goto default;

            default:
                return ParseExtensions(ref reader, ref hello, end);
        }
    }

    /// <summary>
    /// <see cref="ParseHandshake(ref HandshakeReader, ref ClientHelloInfo)"/> for a message whose start is contiguous in the
    /// input (offsets into <paramref name="head"/> are handshake-stream offsets): the same grammar, checks and reasons, in
    /// the same order. Lengths are checked against <paramref name="end"/>, the message length; <paramref name="head"/> may be
    /// shorter, the part of the message in the first record and segment.
    /// </summary>
    /// <param name="head">The message from its handshake header on, whole or as far as it is contiguous.</param>
    /// <param name="end">The handshake message length, header included.</param>
    /// <param name="hello">Receives what the hello says.</param>
    /// <param name="field">The field at which the reader is to go on, or none when the span held everything.</param>
    /// <param name="fieldOffset">Where <paramref name="field"/> starts in the message.</param>
    /// <returns>The reason, or none (also when a field runs past <paramref name="head"/> and is left to the reader).</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // one copy for both paths, and its extension set stays out of the caller's frame
    private static ClientHelloInvalidReason ParseHandshake(ReadOnlySpan<byte> head, int end, ref ClientHelloInfo hello, out HeadField field, out int fieldOffset)
    {
        field = HeadField.None;
        fieldOffset = 0;
        ReadOnlySpan<byte> message = head;
        int p = HandshakeHeaderLength;

        // ProtocolVersion legacy_version; Random random; opaque legacy_session_id<0..32>;
        if (end - p < 2 + 32 + 1)
        {
            return ClientHelloInvalidReason.BodyTruncated;
        }

        if (message.Length - p < 2 + 32 + 1)
        {
            return LeaveToReader(HeadField.LegacyVersion, p, out field, out fieldOffset);
        }

        hello._legacyVersion = BinaryPrimitives.ReadUInt16BigEndian(message[p..]);
        p += 2 + 32;
        int sessionIdLength = message[p++];
        ClientHelloInvalidReason reason = CheckSessionId(sessionIdLength, end - p);
        if (reason != ClientHelloInvalidReason.None)
        {
            return reason;
        }

        p += sessionIdLength;

        // CipherSuite cipher_suites<2..2^16-2>;
        if (end - p < 2)
        {
            return ClientHelloInvalidReason.BodyTruncated;
        }

        if (message.Length - p < 2)
        {
            return LeaveToReader(HeadField.CipherSuites, p, out field, out fieldOffset);
        }

        int cipherSuitesLength = BinaryPrimitives.ReadUInt16BigEndian(message[p..]);
        p += 2;
        reason = CheckCipherSuites(cipherSuitesLength, end - p);
        if (reason != ClientHelloInvalidReason.None)
        {
            return reason;
        }

        hello._cipherSuiteCount = cipherSuitesLength / 2;
        p += cipherSuitesLength;

        // opaque legacy_compression_methods<1..2^8-1>;
        if (end - p < 1)
        {
            return ClientHelloInvalidReason.BodyTruncated;
        }

        if (message.Length - p < 1)
        {
            return LeaveToReader(HeadField.CompressionMethods, p, out field, out fieldOffset);
        }

        int compressionLength = message[p++];
        reason = CheckCompressionMethods(compressionLength, end - p);
        if (reason != ClientHelloInvalidReason.None)
        {
            return reason;
        }

        p += compressionLength;

        // Extension extensions<8..2^16-1>; absent in a TLS 1.0-1.2 hello (RFC 5246 §7.4.1.2).
        int left = end - p;
        if (left < 2)
        {
            return left == 0 ? ClientHelloInvalidReason.None : ClientHelloInvalidReason.ExtensionsLengthTruncated;
        }

        if (message.Length - p < 2)
        {
            return LeaveToReader(HeadField.ExtensionsLength, p, out field, out fieldOffset);
        }

        int extensionsLength = BinaryPrimitives.ReadUInt16BigEndian(message[p..]);
        p += 2;
        reason = CheckExtensionsLength(extensionsLength, end - p);
        if (reason != ClientHelloInvalidReason.None)
        {
            return reason;
        }

        hello._extensionsOffset = p;
        hello._extensionsLength = extensionsLength;
        if (message.Length - p < extensionsLength)
        {
            return LeaveToReader(HeadField.Extensions, p, out field, out fieldOffset);
        }

        Unsafe.SkipInit(out ExtensionTypeSet seen);
        seen.Reset();
        return WalkExtensions(message.Slice(p, extensionsLength), p, ref hello, ref seen);
    }

    // The length rules of the fields before the extensions, shared by the span parse and the reader: each takes the field's
    // length and the bytes of the message left after it.

    // opaque legacy_session_id<0..32>;
    private static ClientHelloInvalidReason CheckSessionId(int length, int rest) =>
        length > MaxSessionIdLength ? ClientHelloInvalidReason.SessionIdTooLong
        : rest < length ? ClientHelloInvalidReason.SessionIdOverrun
        : ClientHelloInvalidReason.None;

    // CipherSuite cipher_suites<2..2^16-2>; (two bytes each)
    private static ClientHelloInvalidReason CheckCipherSuites(int length, int rest) =>
        rest < length ? ClientHelloInvalidReason.CipherSuitesOverrun
        : length == 0 ? ClientHelloInvalidReason.CipherSuitesEmpty
        : (length & 1) != 0 ? ClientHelloInvalidReason.CipherSuitesOddLength
        : ClientHelloInvalidReason.None;

    // opaque legacy_compression_methods<1..2^8-1>;
    private static ClientHelloInvalidReason CheckCompressionMethods(int length, int rest) =>
        length == 0 ? ClientHelloInvalidReason.CompressionMethodsEmpty
        : rest < length ? ClientHelloInvalidReason.CompressionMethodsOverrun
        : ClientHelloInvalidReason.None;

    // Extension extensions<8..2^16-1>; the block ends the message exactly.
    private static ClientHelloInvalidReason CheckExtensionsLength(int length, int rest) =>
        length > rest ? ClientHelloInvalidReason.ExtensionsOverrun
        : length < rest ? ClientHelloInvalidReason.TrailingHandshakeData
        : ClientHelloInvalidReason.None;

    private static ClientHelloInvalidReason LeaveToReader(HeadField at, int offset, out HeadField field, out int fieldOffset)
    {
        field = at;
        fieldOffset = offset;
        return ClientHelloInvalidReason.None;
    }

    /// <summary>The field of a ClientHello at which the span parse of its start hands over to the record reader.</summary>
    private enum HeadField
    {
        /// <summary>Nothing is left: the span held the whole message.</summary>
        None,

        /// <summary>legacy_version, with random and legacy_session_id after it.</summary>
        LegacyVersion,

        /// <summary>The cipher_suites length.</summary>
        CipherSuites,

        /// <summary>The legacy_compression_methods length.</summary>
        CompressionMethods,

        /// <summary>The extensions block length.</summary>
        ExtensionsLength,

        /// <summary>The extensions themselves, after their length.</summary>
        Extensions,
    }

    /// <summary>Walks the extensions, parsing the ones a gateway needs and rejecting repeated types.</summary>
    /// <remarks>
    /// RFC 8446 §4.2 ("There MUST NOT be more than one extension of the same type in a given extension block"):
    /// <code>
    /// struct {
    ///     ExtensionType extension_type;
    ///     opaque extension_data&lt;0..2^16-1&gt;;
    /// } Extension;
    /// </code>
    /// </remarks>
    private static ClientHelloInvalidReason ParseExtensions(ref HandshakeReader reader, ref ClientHelloInfo hello, int end)
    {
        // Not zeroed ([SkipLocalsInit]): the set writes each list slot before reading it.
        Unsafe.SkipInit(out ExtensionTypeSet seen);
        seen.Reset();

        // The usual case, the whole block in one record and one segment, is walked as a span with local offsets.
        int blockOffset = reader.Position;
        return reader.TryReadContiguous(end - blockOffset, out ReadOnlySpan<byte> block)
            ? WalkExtensions(block, blockOffset, ref hello, ref seen)
            : WalkExtensions(ref reader, ref hello, end, ref seen);
    }

    private static ClientHelloInvalidReason WalkExtensions(ref HandshakeReader reader, ref ClientHelloInfo hello, int end, ref ExtensionTypeSet seen)
    {
        int count = 0;

        // The offset is counted here (see HandshakeReader.Position): each step below moves the reader by what it adds, an
        // extension's parse by the extension's length.
        int offset = reader.Position;
        while (offset < end)
        {
            // The extensions that lie whole in the current record and segment are walked as a span, as a contiguous block
            // is; only one that straddles a boundary goes through the reader, so a segmented hello costs about a whole one.
            ReadOnlySpan<byte> chunk = reader.PeekContiguous(end - offset);
            bool last = chunk.Length == end - offset;
            int walked = WalkExtensionsInChunk(chunk, offset, last, ref hello, ref seen, ref count, out ClientHelloInvalidReason reason);
            if (reason != ClientHelloInvalidReason.None)
            {
                return reason;
            }

            reader.Skip(walked);
            offset += walked;
            if (last)
            {
                break;
            }

            if (end - offset < 4)
            {
                return ClientHelloInvalidReason.ExtensionHeaderTruncated;
            }

            uint header = reader.ReadUInt32();
            ushort type = (ushort)(header >> 16);
            int length = (int)(header & 0xffff);
            offset += 4;
            if (end - offset < length)
            {
                return ClientHelloInvalidReason.ExtensionOverrun;
            }

            offset += length;

            if (!seen.TryAdd(type))
            {
                return ClientHelloInvalidReason.DuplicateExtension;
            }

            count++;
            switch (type)
            {
                case ExtensionServerName:
                    reason = ParseServerName(ref reader, ref hello, length);
                    break;
                case ExtensionAlpn:
                    reason = ParseAlpn(ref reader, ref hello, length);
                    break;
                case ExtensionSupportedVersions:
                    reason = ParseSupportedVersions(ref reader, ref hello, length);
                    break;
                case ExtensionEncryptedClientHello:
                    hello._hasEncryptedClientHello = true;
                    reader.Skip(length);
                    continue;
                case ExtensionPreSharedKey:
                    seen.PreSharedKeyPosition = count;
                    reader.Skip(length);
                    continue;
                default:
                    reader.Skip(length);
                    continue;
            }

            if (reason != ClientHelloInvalidReason.None)
            {
                return reason;
            }
        }

        ClientHelloInvalidReason order = CheckPreSharedKeyIsLast(in seen, count);
        if (order == ClientHelloInvalidReason.None)
        {
            hello._extensionCount = count;
        }

        return order;
    }

    /// <summary>
    /// <see cref="WalkExtensions(ref HandshakeReader, ref ClientHelloInfo, int, ref ExtensionTypeSet)"/> for a block that
    /// is contiguous in the input: the same grammar and the same reasons, read with local offsets. The fuzz harness compares
    /// the two on every input (whole against segmented).
    /// </summary>
    private static ClientHelloInvalidReason WalkExtensions(ReadOnlySpan<byte> block, int blockOffset, ref ClientHelloInfo hello, ref ExtensionTypeSet seen)
    {
        int count = 0;
        WalkExtensions(block, blockOffset, whole: true, ref hello, ref seen, ref count, out ClientHelloInvalidReason reason);
        if (reason == ClientHelloInvalidReason.None)
        {
            reason = CheckPreSharedKeyIsLast(in seen, count);
            if (reason == ClientHelloInvalidReason.None)
            {
                hello._extensionCount = count;
            }
        }

        return reason;
    }

    /// <summary>
    /// RFC 8446 §4.2.11: "The "pre_shared_key" extension MUST be the last extension in the ClientHello ... Servers MUST check
    /// that it is the last extension". One check after the walk, which noted the extension's position when it met it: a
    /// hello without the extension pays one bit test.
    /// </summary>
    private static ClientHelloInvalidReason CheckPreSharedKeyIsLast(in ExtensionTypeSet seen, int count) =>
        seen.HasPreSharedKey && seen.PreSharedKeyPosition != count
            ? ClientHelloInvalidReason.PreSharedKeyNotLast
            : ClientHelloInvalidReason.None;

    /// <summary>The span walk for one record-and-segment chunk of a block the reader walks.</summary>
    /// <remarks>A frame of its own: inlined beside the reader's state, the walk's loop runs out of registers.</remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int WalkExtensionsInChunk(ReadOnlySpan<byte> chunk, int chunkOffset, bool last, ref ClientHelloInfo hello, ref ExtensionTypeSet seen, ref int count, out ClientHelloInvalidReason reason) =>
        last
            ? WalkExtensions(chunk, chunkOffset, whole: true, ref hello, ref seen, ref count, out reason)
            : WalkExtensions(chunk, chunkOffset, whole: false, ref hello, ref seen, ref count, out reason);

    /// <summary>Walks the extensions that lie whole in <paramref name="block"/>.</summary>
    /// <param name="block">The rest of the extensions block when <paramref name="whole"/>; otherwise the part of it that is contiguous in the input.</param>
    /// <param name="blockOffset">Handshake-stream offset of <paramref name="block"/>, for what is read later by offset.</param>
    /// <param name="whole">Whether the block ends where the extensions end, so that an extension running past it is invalid rather than continued elsewhere.</param>
    /// <param name="hello">Receives what the known extensions say.</param>
    /// <param name="seen">Extension types met so far.</param>
    /// <param name="count">Extensions met so far.</param>
    /// <param name="reason">Why the block is invalid, or none.</param>
    /// <returns>The bytes walked: whole extensions only.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // each caller gets its own copy, with 'whole' known
    private static int WalkExtensions(ReadOnlySpan<byte> block, int blockOffset, bool whole, ref ClientHelloInfo hello, ref ExtensionTypeSet seen, ref int count, out ClientHelloInvalidReason reason)
    {
        int i = 0;
        while (i < block.Length)
        {
            if (block.Length - i < 4)
            {
                reason = whole ? ClientHelloInvalidReason.ExtensionHeaderTruncated : ClientHelloInvalidReason.None;
                return i;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(block[i..]);
            int length = BinaryPrimitives.ReadUInt16BigEndian(block[(i + 2)..]);
            if (block.Length - i - 4 < length)
            {
                reason = whole ? ClientHelloInvalidReason.ExtensionOverrun : ClientHelloInvalidReason.None;
                return i;
            }

            i += 4;
            if (!seen.TryAdd(type))
            {
                reason = ClientHelloInvalidReason.DuplicateExtension;
                return i;
            }

            count++;

            ReadOnlySpan<byte> data = block.Slice(i, length);
            reason = type switch
            {
                ExtensionServerName => ParseServerName(data, ref hello),
                ExtensionAlpn => ParseAlpn(data, blockOffset + i, ref hello),
                ExtensionSupportedVersions => ParseSupportedVersions(data, blockOffset + i, ref hello),
                ExtensionPreSharedKey => NotePreSharedKey(ref seen, count),
                _ => ClientHelloInvalidReason.None,
            };

            if (reason != ClientHelloInvalidReason.None)
            {
                return i;
            }

            if (type == ExtensionEncryptedClientHello)
            {
                hello._hasEncryptedClientHello = true;
            }

            i += length;
        }

        reason = ClientHelloInvalidReason.None;
        return i;
    }

    /// <summary>Notes where pre_shared_key stands, for the check after the walk (RFC 8446 §4.2.11).</summary>
    private static ClientHelloInvalidReason NotePreSharedKey(ref ExtensionTypeSet seen, int position)
    {
        seen.PreSharedKeyPosition = position;
        return ClientHelloInvalidReason.None;
    }

    /// <summary>server_name from a contiguous extension (RFC 6066 §3; grammar on the reader version below).</summary>
    private static ClientHelloInvalidReason ParseServerName(ReadOnlySpan<byte> data, ref ClientHelloInfo hello)
    {
        if (data.Length < 2)
        {
            return ClientHelloInvalidReason.ServerNameListTruncated;
        }

        int listLength = BinaryPrimitives.ReadUInt16BigEndian(data);
        if (listLength != data.Length - 2)
        {
            return ClientHelloInvalidReason.ServerNameListLengthMismatch;
        }

        if (listLength == 0)
        {
            return ClientHelloInvalidReason.ServerNameListEmpty;
        }

        ReadOnlySpan<byte> list = data[2..];
        while (!list.IsEmpty)
        {
            if (list.Length < 3)
            {
                return ClientHelloInvalidReason.ServerNameEntryTruncated;
            }

            if (list[0] != 0)
            {
                return ClientHelloInvalidReason.ServerNameUnknownType;
            }

            int nameLength = BinaryPrimitives.ReadUInt16BigEndian(list[1..]);
            list = list[3..];
            if (list.Length < nameLength)
            {
                return ClientHelloInvalidReason.ServerNameEntryTruncated;
            }

            if (hello._hasServerName)
            {
                return ClientHelloInvalidReason.ServerNameDuplicateHostName;
            }

            if (nameLength == 0)
            {
                return ClientHelloInvalidReason.HostNameEmpty;
            }

            if (nameLength > MaxHostNameLength)
            {
                return ClientHelloInvalidReason.HostNameTooLong;
            }

            ReadOnlySpan<byte> name = list[..nameLength];
            if (name.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7e) >= 0)
            {
                return ClientHelloInvalidReason.HostNameInvalidCharacter;
            }

            hello._serverName = name;
            hello._serverNameLength = nameLength;
            hello._serverNameCopied = false;
            hello._hasServerName = true;
            list = list[nameLength..];
        }

        return ClientHelloInvalidReason.None;
    }

    /// <summary>ALPN from a contiguous extension (RFC 7301 §3.1; grammar on the reader version below).</summary>
    private static ClientHelloInvalidReason ParseAlpn(ReadOnlySpan<byte> data, int dataOffset, ref ClientHelloInfo hello)
    {
        if (data.Length < 2)
        {
            return ClientHelloInvalidReason.AlpnListTruncated;
        }

        int listLength = BinaryPrimitives.ReadUInt16BigEndian(data);
        if (listLength != data.Length - 2)
        {
            return ClientHelloInvalidReason.AlpnListLengthMismatch;
        }

        if (listLength == 0)
        {
            return ClientHelloInvalidReason.AlpnListEmpty;
        }

        ReadOnlySpan<byte> list = data[2..];
        int count = 0;
        while (!list.IsEmpty)
        {
            int nameLength = list[0];
            if (nameLength == 0)
            {
                return ClientHelloInvalidReason.AlpnEmptyProtocolName;
            }

            if (list.Length - 1 < nameLength)
            {
                return ClientHelloInvalidReason.AlpnProtocolOverrun;
            }

            list = list[(1 + nameLength)..];
            count++;
        }

        hello._alpnOffset = dataOffset + 2;
        hello._alpnLength = listLength;
        hello._alpnCount = count;
        return ClientHelloInvalidReason.None;
    }

    /// <summary>supported_versions from a contiguous extension (RFC 8446 §4.2.1; grammar on the reader version below).</summary>
    private static ClientHelloInvalidReason ParseSupportedVersions(ReadOnlySpan<byte> data, int dataOffset, ref ClientHelloInfo hello)
    {
        if (data.IsEmpty || data[0] != data.Length - 1)
        {
            return ClientHelloInvalidReason.SupportedVersionsLengthMismatch;
        }

        if ((data[0] & 1) != 0)
        {
            return ClientHelloInvalidReason.SupportedVersionsOddLength;
        }

        hello._versionsOffset = dataOffset + 1;
        hello._versionsLength = data[0];
        return ClientHelloInvalidReason.None;
    }

    /// <summary>Reads the one host name of a server_name extension.</summary>
    /// <remarks>
    /// RFC 6066 §3 ("The ServerNameList MUST NOT contain more than one name of the same name_type"; like OpenSSL and
    /// BoringSSL, only host_name is known, so another type cannot be skipped):
    /// <code>
    /// struct {
    ///     NameType name_type;
    ///     select (name_type) {
    ///         case host_name: HostName;
    ///     } name;
    /// } ServerName;
    ///
    /// enum {
    ///     host_name(0), (255)
    /// } NameType;
    ///
    /// opaque HostName&lt;1..2^16-1&gt;;
    ///
    /// struct {
    ///     ServerName server_name_list&lt;1..2^16-1&gt;
    /// } ServerNameList;
    /// </code>
    /// </remarks>
    private static ClientHelloInvalidReason ParseServerName(ref HandshakeReader reader, ref ClientHelloInfo hello, int length)
    {
        if (length < 2)
        {
            return ClientHelloInvalidReason.ServerNameListTruncated;
        }

        int listLength = reader.ReadUInt16();
        if (listLength != length - 2)
        {
            return ClientHelloInvalidReason.ServerNameListLengthMismatch;
        }

        if (listLength == 0)
        {
            return ClientHelloInvalidReason.ServerNameListEmpty;
        }

        // What is left of the list is counted here (see HandshakeReader.Position).
        for (int left = listLength; left > 0;)
        {
            if (left < 3)
            {
                return ClientHelloInvalidReason.ServerNameEntryTruncated;
            }

            byte nameType = reader.ReadUInt8();
            if (nameType != 0)
            {
                return ClientHelloInvalidReason.ServerNameUnknownType;
            }

            int nameLength = reader.ReadUInt16();
            left -= 3;
            if (left < nameLength)
            {
                return ClientHelloInvalidReason.ServerNameEntryTruncated;
            }

            left -= nameLength;

            if (hello._hasServerName)
            {
                return ClientHelloInvalidReason.ServerNameDuplicateHostName;
            }

            if (nameLength == 0)
            {
                return ClientHelloInvalidReason.HostNameEmpty;
            }

            if (nameLength > MaxHostNameLength)
            {
                return ClientHelloInvalidReason.HostNameTooLong;
            }

            // Printable ASCII only: a NUL would truncate the name in C servers behind the gateway (OpenSSL refuses it), and
            // control or 8-bit bytes never appear in a DNS or Consul name (IDNs travel as xn-- A-labels).
            bool copied = !reader.TryReadContiguous(nameLength, out ReadOnlySpan<byte> name);
            if (copied)
            {
                // The name straddles two records or segments: copy it (at most 255 bytes), never the message. Each piece is
                // checked where it lies: the copy, read back at once in wide loads, would stall on store forwarding.
                Span<byte> copy = ((Span<byte>)hello._serverNameCopy)[..nameLength];
                for (int done = 0; done < nameLength;)
                {
                    ReadOnlySpan<byte> piece = reader.ReadContiguous(nameLength - done);
                    if (piece.IsEmpty)
                    {
                        // Past the data or into a faulty record: the reader has marked it, and the record walk will name it.
                        break;
                    }

                    if (piece.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7e) >= 0)
                    {
                        return ClientHelloInvalidReason.HostNameInvalidCharacter;
                    }

                    piece.CopyTo(copy[done..]);
                    done += piece.Length;
                }
            }
            else if (name.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7e) >= 0)
            {
                return ClientHelloInvalidReason.HostNameInvalidCharacter;
            }

            hello._serverName = copied ? default : name;
            hello._serverNameLength = nameLength;
            hello._serverNameCopied = copied;
            hello._hasServerName = true;
        }

        return ClientHelloInvalidReason.None;
    }

    /// <summary>Checks an ALPN extension and remembers where its list is.</summary>
    /// <remarks>
    /// RFC 7301 §3.1:
    /// <code>
    /// opaque ProtocolName&lt;1..2^8-1&gt;;
    ///
    /// struct {
    ///     ProtocolName protocol_name_list&lt;2..2^16-1&gt;
    /// } ProtocolNameList;
    /// </code>
    /// </remarks>
    private static ClientHelloInvalidReason ParseAlpn(ref HandshakeReader reader, ref ClientHelloInfo hello, int length)
    {
        if (length < 2)
        {
            return ClientHelloInvalidReason.AlpnListTruncated;
        }

        int listLength = reader.ReadUInt16();
        if (listLength != length - 2)
        {
            return ClientHelloInvalidReason.AlpnListLengthMismatch;
        }

        if (listLength == 0)
        {
            return ClientHelloInvalidReason.AlpnListEmpty;
        }

        int listStart = reader.Position;
        int count = 0;

        // A chunk at a time (the list as it lies in records and segments): a name's length byte says where the next one
        // starts, so a name that runs on into the next chunk only carries its remaining bytes over. What is left of the
        // list is counted here (see HandshakeReader.Position).
        int carry = 0;
        for (int left = listLength; left > 0;)
        {
            ReadOnlySpan<byte> chunk = reader.ReadContiguous(left);
            if (chunk.IsEmpty)
            {
                // Past the data or into a faulty record: the reader has marked it, and the record walk will name it.
                break;
            }

            left -= chunk.Length;

            int next = carry;
            while (next < chunk.Length)
            {
                int nameLength = chunk[next];
                if (nameLength == 0)
                {
                    return ClientHelloInvalidReason.AlpnEmptyProtocolName;
                }

                next += 1 + nameLength;
                count++;
            }

            carry = next - chunk.Length;
        }

        // Only the last name can run past the list's end: nothing of the list follows it.
        if (carry > 0)
        {
            return ClientHelloInvalidReason.AlpnProtocolOverrun;
        }

        hello._alpnOffset = listStart;
        hello._alpnLength = listLength;
        hello._alpnCount = count;
        return ClientHelloInvalidReason.None;
    }

    /// <summary>Checks a supported_versions extension and remembers where its list is.</summary>
    /// <remarks>
    /// RFC 8446 §4.2.1 (an empty list is left for the handshake to refuse, as OpenSSL does):
    /// <code>
    /// struct {
    ///     select (Handshake.msg_type) {
    ///         case client_hello:
    ///              ProtocolVersion versions&lt;2..254&gt;;
    ///         ...
    ///     };
    /// } SupportedVersions;
    /// </code>
    /// </remarks>
    private static ClientHelloInvalidReason ParseSupportedVersions(ref HandshakeReader reader, ref ClientHelloInfo hello, int length)
    {
        if (length < 1)
        {
            return ClientHelloInvalidReason.SupportedVersionsLengthMismatch;
        }

        int listLength = reader.ReadUInt8();
        if (listLength != length - 1)
        {
            return ClientHelloInvalidReason.SupportedVersionsLengthMismatch;
        }

        if ((listLength & 1) != 0)
        {
            return ClientHelloInvalidReason.SupportedVersionsOddLength;
        }

        hello._versionsOffset = reader.Position;
        hello._versionsLength = listLength;
        reader.Skip(listLength);
        return ClientHelloInvalidReason.None;
    }
}
