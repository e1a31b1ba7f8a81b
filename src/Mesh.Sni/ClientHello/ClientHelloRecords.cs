using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// The record layer under a ClientHello: the walk that finds the records carrying the whole handshake message, or says why
/// it cannot (not TLS, a broken record, too large, or how many bytes are still to come).
/// </summary>
[SkipLocalsInit]
internal static class ClientHelloRecords
{
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
    internal static ClientHelloParseStatus Scan(ref ByteCursor cursor, ref ClientHelloInfo hello, int maxHandshakeLength)
    {
        Span<byte> headerRoom = stackalloc byte[TlsWire.RecordHeaderLength];
        Span<byte> handshakeHeader = stackalloc byte[TlsWire.HandshakeHeaderLength];
        int handshakeHeaderHave = 0;
        int handshakeLength = -1;
        int fragmentTotal = 0;
        int consumed = 0;
        int records = 0;

        while (true)
        {
            // A header that lies whole in the current segment (all of them, over one span) is read where it is.
            scoped ReadOnlySpan<byte> header = cursor.Current;
            int got = TlsWire.RecordHeaderLength;
            if (header.Length >= TlsWire.RecordHeaderLength)
            {
                cursor.Skip(TlsWire.RecordHeaderLength);
            }
            else
            {
                got = cursor.CopyUpTo(headerRoom);
                header = headerRoom;
            }

            if (got >= 1 && header[0] != TlsWire.ContentTypeHandshake)
            {
                return records == 0
                    ? ClientHelloParseStatus.NotTls
                    : Invalid(ref hello, ClientHelloInvalidReason.UnexpectedContentType);
            }

            if (got >= 2 && header[1] != 3)
            {
                return Invalid(ref hello, ClientHelloInvalidReason.BadRecordVersion);
            }

            if (got < TlsWire.RecordHeaderLength)
            {
                int rest = handshakeLength >= 0
                    ? MinimumRecordBytes(handshakeLength - fragmentTotal)
                    : TlsWire.RecordHeaderLength + Math.Max(1, TlsWire.HandshakeHeaderLength - handshakeHeaderHave);
                return NeedMore(ref hello, rest - got);
            }

            int length = (header[3] << 8) | header[4];
            if (length > TlsWire.MaxFragmentLength)
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
            if (handshakeHeaderHave < TlsWire.HandshakeHeaderLength)
            {
                readHere = Math.Min(TlsWire.HandshakeHeaderLength - handshakeHeaderHave, available);
                cursor.CopyUpTo(handshakeHeader.Slice(handshakeHeaderHave, readHere));
                handshakeHeaderHave += readHere;
                if (handshakeHeaderHave > 0 && handshakeHeader[0] != TlsWire.HandshakeTypeClientHello)
                {
                    return Invalid(ref hello, ClientHelloInvalidReason.NotClientHello);
                }

                if (handshakeHeaderHave == TlsWire.HandshakeHeaderLength)
                {
                    handshakeLength = TlsWire.HandshakeHeaderLength + ((handshakeHeader[1] << 16) | (handshakeHeader[2] << 8) | handshakeHeader[3]);
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
            consumed += TlsWire.RecordHeaderLength + length;
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
        fragmentBytes <= 0 ? 0 : fragmentBytes + (TlsWire.RecordHeaderLength * ((fragmentBytes + TlsWire.MaxFragmentLength - 1) / TlsWire.MaxFragmentLength));

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
}
