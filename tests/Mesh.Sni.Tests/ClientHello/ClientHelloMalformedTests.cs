using System.Buffers;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Tests.Support;
using static Mesh.Sni.Tests.Support.HelloBuilder;

namespace Mesh.Sni.Tests.ClientHello;

/// <summary>Hand-built hellos that each break one rule: each gives Invalid with that rule's reason, never an exception.</summary>
public sealed class ClientHelloMalformedTests
{
    private static byte[] TwoRecords(byte[] between)
    {
        byte[] handshake = Handshake(TypicalBody());
        return Concat(Record(handshake[..40]), between, Record(handshake[40..]));
    }

    private static IEnumerable<TestCaseData> Malformed()
    {
        TestCaseData Case(string name, ClientHelloInvalidReason reason, byte[] bytes) => new TestCaseData(bytes, reason).SetArgDisplayNames(name);
        byte[] handshake = Handshake(TypicalBody());

        // RFC 8446 §5.1: the record layer.
        yield return Case("record over 2^14", ClientHelloInvalidReason.RecordTooLong, Record(new byte[16385]));
        yield return Case("record of 65535", ClientHelloInvalidReason.RecordTooLong, Concat(U8(22), U16(0x0301), U16(0xffff)));
        yield return Case("zero-length first fragment", ClientHelloInvalidReason.EmptyRecord, Concat(Record([]), Record(handshake)));
        yield return Case("zero-length fragment between fragments", ClientHelloInvalidReason.EmptyRecord, TwoRecords(Record([])));
        yield return Case("change_cipher_spec between fragments", ClientHelloInvalidReason.UnexpectedContentType, TwoRecords(Record([1], contentType: 20)));
        yield return Case("alert between fragments", ClientHelloInvalidReason.UnexpectedContentType, TwoRecords(Record([2, 40], contentType: 21)));
        yield return Case("application_data after the first fragment", ClientHelloInvalidReason.UnexpectedContentType,
            Concat(Record(handshake[..40]), Record(handshake[40..], contentType: 23)));
        yield return Case("record version 2.0", ClientHelloInvalidReason.BadRecordVersion, Records(handshake, version: 0x0200));
        yield return Case("record version 4.1", ClientHelloInvalidReason.BadRecordVersion, Records(handshake, version: 0x0401));
        yield return Case("second record version 0xfefd (DTLS)", ClientHelloInvalidReason.BadRecordVersion,
            Concat(Record(handshake[..40]), Record(handshake[40..], version: 0xfefd)));
        yield return Case("server_hello", ClientHelloInvalidReason.NotClientHello, Records(Handshake(TypicalBody(), type: 2)));
        yield return Case("hello_request", ClientHelloInvalidReason.NotClientHello, Records(Handshake([], type: 0)));
        yield return Case("bytes after the hello in its record", ClientHelloInvalidReason.DataAfterClientHello, Record([.. handshake, 0x14]));
        yield return Case("handshake length shorter than its record", ClientHelloInvalidReason.DataAfterClientHello,
            Record(Handshake(TypicalBody(), length: TypicalBody().Length - 10)));

        // RFC 8446 §4.1.2: fixed fields and vectors of the body.
        yield return Case("body cut inside random", ClientHelloInvalidReason.BodyTruncated, Hello(Concat(U16(0x0303), Random32[..20])));
        yield return Case("body ends after session id", ClientHelloInvalidReason.BodyTruncated, Hello(Concat(U16(0x0303), Random32, Vec8())));
        yield return Case("body ends after cipher suites", ClientHelloInvalidReason.BodyTruncated, Hello(Concat(U16(0x0303), Random32, Vec8(), Vec16(U16(0x1301)))));
        yield return Case("session id of 33 bytes", ClientHelloInvalidReason.SessionIdTooLong, Hello(Body(null, sessionIdVector: Vec8(new byte[33]))));
        yield return Case("session id of 255 bytes", ClientHelloInvalidReason.SessionIdTooLong, Hello(Concat(U16(0x0303), Random32, U8(255))));
        yield return Case("session id past the end", ClientHelloInvalidReason.SessionIdOverrun, Hello(Concat(U16(0x0303), Random32, U8(32), new byte[10])));
        yield return Case("session id of 31 past the end", ClientHelloInvalidReason.SessionIdOverrun, Hello(Concat(U16(0x0303), Random32, U8(31), new byte[30])));
        yield return Case("cipher suites past the end", ClientHelloInvalidReason.CipherSuitesOverrun, Hello(Body(null, cipherSuitesVector: Concat(U16(200), U16(0x1301)))));
        yield return Case("cipher suites odd length", ClientHelloInvalidReason.CipherSuitesOddLength, Hello(Body(null, cipherSuitesVector: Vec16(U16(0x1301), U8(0x13)))));
        yield return Case("cipher suites empty", ClientHelloInvalidReason.CipherSuitesEmpty, Hello(Body(null, cipherSuitesVector: Vec16())));
        yield return Case("compression methods empty", ClientHelloInvalidReason.CompressionMethodsEmpty, Hello(Body(null, compressionVector: Vec8())));
        yield return Case("compression methods past the end", ClientHelloInvalidReason.CompressionMethodsOverrun, Hello(Body(null, compressionVector: Concat(U8(5), U8(0)))));
        yield return Case("the one compression method cut off", ClientHelloInvalidReason.CompressionMethodsOverrun,
            Hello(Concat(U16(0x0303), Random32, Vec8(), Vec16(U16(0x1301)), U8(1))));
        yield return Case("one byte where the extensions length belongs", ClientHelloInvalidReason.ExtensionsLengthTruncated, Hello(Body([0x00])));
        yield return Case("extensions block past the end", ClientHelloInvalidReason.ExtensionsOverrun, Hello(Body(Concat(U16(100), SupportedGroups))));
        yield return Case("bytes after the extensions block", ClientHelloInvalidReason.TrailingHandshakeData, Hello(Body(Concat(Extensions(SupportedGroups), [0, 0]))));

        // RFC 8446 §4.2: the extension list.
        yield return Case("extension header cut short", ClientHelloInvalidReason.ExtensionHeaderTruncated, Hello(Body(Vec16(SupportedGroups, [0x00, 0x0a, 0x00]))));
        yield return Case("extension data past the block", ClientHelloInvalidReason.ExtensionOverrun, Hello(Body(Vec16(SupportedGroups, U16(13), U16(50), [1, 2]))));
        yield return Case("type of 64 or above past the block", ClientHelloInvalidReason.ExtensionOverrun, Hello(Body(Vec16(SupportedGroups, U16(0xff01), U16(50), [0]))));
        yield return Case("server_name past the block", ClientHelloInvalidReason.ExtensionOverrun, Hello(Body(Vec16(SupportedGroups, U16(0), U16(50), [0]))));
        yield return Case("repeated extension past the block", ClientHelloInvalidReason.ExtensionOverrun, Hello(Body(Vec16(SupportedGroups, U16(10), U16(50), [1, 2]))));
        yield return Case("extension of 261 bytes where 5 follow (its low length byte)", ClientHelloInvalidReason.ExtensionOverrun,
            Hello(Body(Vec16(SupportedGroups, U16(21), U16(0x0105), new byte[5]))));
        yield return Case("repeated server_name past the block", ClientHelloInvalidReason.ExtensionOverrun, Hello(Body(Vec16(ServerName("a.b"), U16(0), U16(50), [1, 2]))));
        yield return Case("extension repeated", ClientHelloInvalidReason.DuplicateExtension, Hello(Body(Extensions(SupportedGroups, ServerName("a.b"), SupportedGroups))));
        yield return Case("ALPN repeated", ClientHelloInvalidReason.DuplicateExtension, Hello(Body(Extensions(Alpn("h2"), SupportedGroups, Alpn("h2")))));
        yield return Case("supported_versions repeated", ClientHelloInvalidReason.DuplicateExtension,
            Hello(Body(Extensions(SupportedVersions(0x0304), SupportedVersions(0x0304)))));
        yield return Case("renegotiation_info repeated", ClientHelloInvalidReason.DuplicateExtension,
            Hello(Body(Extensions(Extension(0xff01, [0]), SupportedGroups, Extension(0xff01, [0])))));
        yield return Case("server_name repeated", ClientHelloInvalidReason.DuplicateExtension, Hello(Body(Extensions(ServerName("a.b"), ServerName("c.d")))));
        yield return Case("extension repeated among 200", ClientHelloInvalidReason.DuplicateExtension,
            Hello(Body(Extensions([.. Enumerable.Range(1000, 200).Select(t => Extension(t, [])), Extension(1100, [])]))));
        yield return Case("extension below 64 repeated after 200 others", ClientHelloInvalidReason.DuplicateExtension,
            Hello(Body(Extensions([Extension(10, []), .. Enumerable.Range(1000, 200).Select(t => Extension(t, [])), Extension(10, [])]))));
        yield return Case("pre_shared_key not last", ClientHelloInvalidReason.PreSharedKeyNotLast,
            Hello(Body(Extensions(ServerName("a.b"), Extension(41, Concat(Vec16(Vec16(Ascii("id")), U16(0), U16(1)), Vec16(Vec8(new byte[32])))), SupportedGroups))));

        // RFC 6066 §3: server_name.
        yield return Case("server_name extension empty", ClientHelloInvalidReason.ServerNameListTruncated, Hello(Body(Extensions(Extension(0, [])))));
        yield return Case("server_name extension of one byte", ClientHelloInvalidReason.ServerNameListTruncated, Hello(Body(Extensions(Extension(0, [0])))));
        yield return Case("server_name list length too long", ClientHelloInvalidReason.ServerNameListLengthMismatch,
            Hello(Body(Extensions(Extension(0, Concat(U16(20), U8(0), Vec16(Ascii("a.b"))))))));
        yield return Case("server_name list length too short", ClientHelloInvalidReason.ServerNameListLengthMismatch,
            Hello(Body(Extensions(Extension(0, Concat(U16(3), U8(0), Vec16(Ascii("a.b"))))))));
        yield return Case("server_name list empty", ClientHelloInvalidReason.ServerNameListEmpty, Hello(Body(Extensions(Extension(0, Vec16())))));
        yield return Case("server_name entry of two bytes", ClientHelloInvalidReason.ServerNameEntryTruncated, Hello(Body(Extensions(Extension(0, Vec16([0, 0]))))));
        yield return Case("host name past the list", ClientHelloInvalidReason.ServerNameEntryTruncated,
            Hello(Body(Extensions(Extension(0, Vec16(U8(0), U16(40), Ascii("a.b")))))));
        yield return Case("host name one byte short of its entry", ClientHelloInvalidReason.ServerNameEntryTruncated,
            Hello(Body(Extensions(Extension(0, Vec16(U8(0), U16(3), Ascii("a.b"), U8(0x61)))))));
        yield return Case("name_type 1", ClientHelloInvalidReason.ServerNameUnknownType, Hello(Body(Extensions(Extension(0, Vec16(U8(1), Vec16(Ascii("a.b"))))))));
        yield return Case("two host names", ClientHelloInvalidReason.ServerNameDuplicateHostName,
            Hello(Body(Extensions(Extension(0, Vec16(U8(0), Vec16(Ascii("a.b")), U8(0), Vec16(Ascii("c.d"))))))));
        yield return Case("host name empty", ClientHelloInvalidReason.HostNameEmpty, Hello(Body(Extensions(ServerName([])))));
        yield return Case("host name of 256 bytes", ClientHelloInvalidReason.HostNameTooLong, Hello(Body(Extensions(ServerName(new string('a', 256))))));
        yield return Case("host name with NUL", ClientHelloInvalidReason.HostNameInvalidCharacter, Hello(Body(Extensions(ServerName("evil.com\0.good.com")))));
        yield return Case("host name with a control byte", ClientHelloInvalidReason.HostNameInvalidCharacter, Hello(Body(Extensions(ServerName("a\tb.com")))));
        yield return Case("host name with DEL", ClientHelloInvalidReason.HostNameInvalidCharacter, Hello(Body(Extensions(ServerName([0x61, 0x7f, 0x62])))));
        yield return Case("host name with 0x80", ClientHelloInvalidReason.HostNameInvalidCharacter, Hello(Body(Extensions(ServerName([0x61, 0x80, 0x62])))));
        yield return Case("host name in UTF-8", ClientHelloInvalidReason.HostNameInvalidCharacter, Hello(Body(Extensions(ServerName("bücher.example"u8.ToArray())))));

        // RFC 7301 §3.1: ALPN.
        yield return Case("ALPN extension of one byte", ClientHelloInvalidReason.AlpnListTruncated, Hello(Body(Extensions(Extension(16, [0])))));
        yield return Case("ALPN list length mismatch", ClientHelloInvalidReason.AlpnListLengthMismatch, Hello(Body(Extensions(Extension(16, Concat(U16(9), Vec8(Ascii("h2"))))))));
        yield return Case("ALPN list empty", ClientHelloInvalidReason.AlpnListEmpty, Hello(Body(Extensions(Extension(16, Vec16())))));
        yield return Case("ALPN empty protocol name", ClientHelloInvalidReason.AlpnEmptyProtocolName, Hello(Body(Extensions(Extension(16, Vec16(Vec8(Ascii("h2")), Vec8()))))));
        yield return Case("ALPN protocol past the list", ClientHelloInvalidReason.AlpnProtocolOverrun, Hello(Body(Extensions(Extension(16, Vec16(U8(9), Ascii("h2")))))));

        // RFC 8446 §4.2.1: supported_versions.
        yield return Case("supported_versions empty extension", ClientHelloInvalidReason.SupportedVersionsLengthMismatch, Hello(Body(Extensions(Extension(43, [])))));
        yield return Case("supported_versions length mismatch", ClientHelloInvalidReason.SupportedVersionsLengthMismatch,
            Hello(Body(Extensions(Extension(43, Concat(U8(6), U16(0x0304)))))));
        yield return Case("supported_versions odd length", ClientHelloInvalidReason.SupportedVersionsOddLength, Hello(Body(Extensions(Extension(43, Vec8(U16(0x0304), U8(3)))))));
    }

    [TestCaseSource(nameof(Malformed))]
    public void Malformed_hello_is_invalid_with_its_reason(byte[] bytes, ClientHelloInvalidReason reason)
    {
        Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Invalid));
        Assert.That(hello.InvalidReason, Is.EqualTo(reason));
        Assert.That(hello.HasServerName, Is.False);
        Assert.That(hello.ServerName.IsEmpty, Is.True);

        foreach (int size in (int[])[1, 3, 64])
        {
            ReadOnlySequence<byte> segmented = Segments.Every(bytes, size);
            Assert.That(ClientHelloParser.Parse(segmented, out ClientHelloInfo again), Is.EqualTo(ClientHelloParseStatus.Invalid), $"{size}-byte segments");
            Assert.That(again.InvalidReason, Is.EqualTo(reason), $"{size}-byte segments");
        }
    }

    [Test]
    public void Host_name_of_every_length_is_judged_by_each_of_its_bytes_wherever_server_name_lies()
    {
        // The usual server_name (one host_name entry that fills it) is read by its extension's length and its name checked
        // in blocks chosen by the name's length; every length, the first, middle and last byte, server_name first and last
        // in the block, and over one span and in segments, must give what the rule says. The bytes around a name (its
        // length before it, the next extension's header after it) are never printable here.
        byte[][] Layouts(byte[] name) =>
        [
            Hello(Body(Extensions(ServerName(name), SupportedGroups, SupportedVersions(0x0304)))),
            Hello(Body(Extensions(SupportedGroups, SupportedVersions(0x0304), ServerName(name)))),
        ];

        int checkedHellos = 0;
        for (int length = 1; length <= 255; length++)
        {
            byte[] name = [.. Enumerable.Range(0, length).Select(i => (byte)(i % 3 == 0 ? '.' : 'a' + (i % 26)))];
            foreach (byte[] bytes in Layouts(name))
            {
                Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete), $"length {length}");
                Assert.That(hello.ServerName.SequenceEqual(name), Is.True, $"length {length}");
                checkedHellos++;
            }

            foreach (int position in new[] { 0, length / 2, length - 1 })
            {
                foreach (byte value in (byte[])[0x00, 0x1f, 0x7f, 0x80, 0xff])
                {
                    byte[] bad = [.. name];
                    bad[position] = value;
                    foreach (byte[] bytes in Layouts(bad))
                    {
                        string where = $"0x{value:x2} at {position} of {length}";
                        Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Invalid), where);
                        Assert.That(hello.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.HostNameInvalidCharacter), where);
                        Assert.That(ClientHelloParser.Parse(Segments.Every(bytes, 7), out ClientHelloInfo segmented), Is.EqualTo(ClientHelloParseStatus.Invalid), where);
                        Assert.That(segmented.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.HostNameInvalidCharacter), where);
                        checkedHellos++;
                    }
                }
            }
        }

        Assert.That(checkedHellos, Is.EqualTo(255 * 2 * (1 + (3 * 5))));
    }

    [Test]
    public void Every_reason_has_a_malformed_hello()
    {
        var covered = Malformed().Select(c => (ClientHelloInvalidReason)c.Arguments[1]!).ToHashSet();
        Assert.That(Enum.GetValues<ClientHelloInvalidReason>().Where(r => r != ClientHelloInvalidReason.None), Is.SubsetOf(covered));
        Assert.That(Malformed().Count(), Is.GreaterThanOrEqualTo(30));
    }

    [Test]
    public void Record_layer_errors_are_reported_before_the_rest_arrives()
    {
        // A gateway must not wait for 16 KiB that a broken header announced.
        Assert.That(ClientHelloParser.Parse(Concat(U8(22), U16(0x0301), U16(0x4001)), out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Invalid));
        Assert.That(hello.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.RecordTooLong));
        Assert.That(ClientHelloParser.Parse(Concat(U8(22), U16(0x0301), U16(100), U8(2)), out hello), Is.EqualTo(ClientHelloParseStatus.Invalid));
        Assert.That(hello.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.NotClientHello));
        Assert.That(ClientHelloParser.Parse(Concat(U8(22), U8(2)), out hello), Is.EqualTo(ClientHelloParseStatus.Invalid));
        Assert.That(hello.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.BadRecordVersion));
    }

    [Test]
    public void A_record_fault_or_missing_data_outranks_a_grammar_fault_in_an_earlier_record()
    {
        // The grammar fault (a NUL in the host name) lies in the first record; the second record is broken or not there yet.
        byte[] handshake = Handshake(TypicalBody(hostName: "evil.com\0.good.com"));
        byte[] first = Record(handshake[..120]);
        byte[] rest = handshake[120..];
        foreach ((string name, byte[] bytes, ClientHelloParseStatus status, ClientHelloInvalidReason reason) in new[]
        {
            ("alert as the second record", Concat(first, Record(rest, contentType: 21)), ClientHelloParseStatus.Invalid, ClientHelloInvalidReason.UnexpectedContentType),
            ("second record over 2^14", Concat(first, U8(22), U16(0x0301), U16(0x4001), rest), ClientHelloParseStatus.Invalid, ClientHelloInvalidReason.RecordTooLong),
            ("second record longer than the hello", Concat(first, Record([.. rest, 0])), ClientHelloParseStatus.Invalid, ClientHelloInvalidReason.DataAfterClientHello),
            ("second record not all received", Concat(first, Record(rest))[..^1], ClientHelloParseStatus.NeedMoreData, ClientHelloInvalidReason.None),
            ("both records whole", Concat(first, Record(rest)), ClientHelloParseStatus.Invalid, ClientHelloInvalidReason.HostNameInvalidCharacter),
        })
        {
            foreach (int size in (int[])[0, 1, 7, 512])
            {
                ReadOnlySequence<byte> input = size == 0 ? new(bytes) : Segments.Every(bytes, size);
                Assert.That(ClientHelloParser.Parse(input, out ClientHelloInfo hello), Is.EqualTo(status), $"{name}, segments of {size}");
                Assert.That(hello.InvalidReason, Is.EqualTo(reason), $"{name}, segments of {size}");
                Assert.That(hello.HasServerName, Is.False, $"{name}, segments of {size}");
            }
        }
    }

    private static IEnumerable<TestCaseData> NotTls()
    {
        yield return new TestCaseData("GET / HTTP/1.1\r\nHost: web\r\n\r\n"u8.ToArray()).SetArgDisplayNames("HTTP/1.1");
        yield return new TestCaseData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray()).SetArgDisplayNames("HTTP/2 preface");
        yield return new TestCaseData("SSH-2.0-OpenSSH_9.2p1\r\n"u8.ToArray()).SetArgDisplayNames("SSH");
        yield return new TestCaseData("CONNECT web:443 HTTP/1.1\r\n\r\n"u8.ToArray()).SetArgDisplayNames("CONNECT");
        // SSLv2-compatible hello: two-byte header with the high bit set, msg_type 1, version 3.1.
        yield return new TestCaseData(new byte[] { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10 }).SetArgDisplayNames("SSLv2 hello");
        yield return new TestCaseData(new byte[] { 0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5 }).SetArgDisplayNames("application data");
        yield return new TestCaseData(new byte[] { 0x15, 0x03, 0x03, 0x00, 0x02, 2, 40 }).SetArgDisplayNames("alert");
        yield return new TestCaseData(new byte[] { 0x00 }).SetArgDisplayNames("NUL");
        yield return new TestCaseData(new byte[] { 0x47 }).SetArgDisplayNames("one byte of GET");
    }

    [TestCaseSource(nameof(NotTls))]
    public void Non_tls_input_is_not_tls(byte[] bytes)
    {
        Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.NotTls));
        Assert.That(hello.Status, Is.EqualTo(ClientHelloParseStatus.NotTls));
        Assert.That(ClientHelloParser.Parse(Segments.Every(bytes, 1), out _), Is.EqualTo(ClientHelloParseStatus.NotTls));
    }
}
