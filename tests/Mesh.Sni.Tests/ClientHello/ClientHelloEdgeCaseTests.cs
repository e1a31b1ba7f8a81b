using System.Buffers;
using System.Text;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Tests.Support;
using static Mesh.Sni.Tests.Support.HelloBuilder;

namespace Mesh.Sni.Tests.ClientHello;

/// <summary>Legal hellos at the edges of the grammar: the parser must accept what OpenSSL and BoringSSL accept.</summary>
public sealed class ClientHelloEdgeCaseTests
{
    [Test]
    public void Hello_without_an_extensions_block_is_legal_before_tls_1_3()
    {
        byte[] bytes = Hello(Body(null, sessionIdVector: Vec8(), legacyVersion: 0x0301));
        Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That((hello.LegacyVersion, hello.ExtensionCount, hello.HasServerName, hello.HasAlpn, hello.HasSupportedVersions, hello.CipherSuiteCount),
            Is.EqualTo(((ushort)0x0301, 0, false, false, false, 3)));
        Assert.That(hello.BytesConsumed, Is.EqualTo(bytes.Length));
        Assert.That(hello.GetServerNameString(), Is.Null);
    }

    [Test]
    public void Empty_extensions_block_is_legal()
    {
        Assert.That(ClientHelloParser.Parse(Hello(Body(Extensions())), out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That(hello.ExtensionCount, Is.Zero);
    }

    [TestCase("web_api.default.dc1.internal.abc.consul")]
    [TestCase("example.com.")]
    [TestCase("localhost")]
    [TestCase("a")]
    [TestCase("WWW.Example.COM")]
    [TestCase("with space.example")]
    public void Host_names_are_returned_exactly_as_sent(string name)
    {
        Assert.That(ClientHelloParser.Parse(Hello(TypicalBody(name)), out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That(hello.GetServerNameString(), Is.EqualTo(name));
        Assert.That(hello.ServerName.SequenceEqual(Encoding.ASCII.GetBytes(name)), Is.True);
    }

    [Test]
    public void Host_name_of_255_bytes_is_legal()
    {
        string name = string.Join('.', Enumerable.Repeat(new string('x', 63), 4))[..255];
        Assert.That(ClientHelloParser.Parse(Hello(TypicalBody(name)), out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That(hello.GetServerNameString(), Is.EqualTo(name));
    }

    [Test]
    public void Hello_in_one_byte_records_reads_names_that_straddle_records()
    {
        string name = "counting.default.dc2.internal.11111111-2222-3333-4444-555555555555.consul";
        byte[] handshake = Handshake(TypicalBody(name));
        foreach (int fragment in (int[])[1, 2, 3, 7, 50])
        {
            byte[] bytes = Records(handshake, fragment);
            foreach (ReadOnlySequence<byte> input in new[] { new ReadOnlySequence<byte>(bytes), Segments.Every(bytes, 1), Segments.Every(bytes, 13) })
            {
                Assert.That(ClientHelloParser.Parse(input, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete), $"{fragment}-byte records");
                Assert.That(hello.GetServerNameString(), Is.EqualTo(name));
                Assert.That(hello.RecordCount, Is.EqualTo((handshake.Length + fragment - 1) / fragment));
                Assert.That(hello.BytesConsumed, Is.EqualTo(bytes.Length));
                var alpn = new List<string>();
                foreach (ReadOnlySpan<byte> protocol in hello.AlpnProtocols)
                {
                    alpn.Add(Encoding.ASCII.GetString(protocol));
                }

                Assert.That(alpn, Is.EqualTo(new[] { "h2", "http/1.1" }));
                var versions = new List<ushort>();
                foreach (ushort version in hello.SupportedVersions)
                {
                    versions.Add(version);
                }

                Assert.That(versions, Is.EqualTo(new ushort[] { 0x0304, 0x0303 }));
            }
        }
    }

    // A message spread over records or segments is gathered before its grammar is read when it is small (on the stack), and
    // read where it lies when it is larger (up to the cap). Both sides of that line, and the cap itself, read like one whole
    // record.
    [TestCase(4_096)]
    [TestCase(4_097)]
    [TestCase(20_000)]
    [TestCase(ClientHelloParser.DefaultMaxHandshakeLength)]
    public void Hello_of_any_size_reads_the_same_over_records_and_segments(int handshakeLength)
    {
        const string name = "big.default.dc1.internal.abc.consul";
        byte[] handshake = PaddedHandshake(name, handshakeLength);
        Assert.That(handshake, Has.Length.EqualTo(handshakeLength));

        foreach (int fragment in (int[])[16_384, 4_095, 1_000])
        {
            byte[] bytes = Records(handshake, fragment);
            foreach (int segment in (int[])[0, 4_096, 512, 7])
            {
                ReadOnlySequence<byte> input = segment == 0 ? new(bytes) : Segments.Every(bytes, segment);
                string how = $"{fragment}-byte records, {segment}-byte segments";
                Assert.That(ClientHelloParser.Parse(input, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete), how);
                Assert.That((hello.GetServerNameString(), hello.HandshakeLength, hello.BytesConsumed, hello.RecordCount),
                    Is.EqualTo((name, handshakeLength, bytes.Length, (handshakeLength + fragment - 1) / fragment)), how);
                var alpn = new List<string>();
                foreach (ReadOnlySpan<byte> protocol in hello.AlpnProtocols)
                {
                    alpn.Add(Encoding.ASCII.GetString(protocol));
                }

                var types = new List<ushort>();
                foreach (ushort type in hello.ExtensionTypes)
                {
                    types.Add(type);
                }

                Assert.That(alpn, Is.EqualTo(new[] { "h2", "http/1.1" }), how);
                Assert.That(types, Is.EqualTo(new ushort[] { 0, 16, 43, 21 }), how);
            }
        }
    }

    [Test]
    public void Large_hello_read_in_place_takes_names_that_straddle_a_record_boundary()
    {
        // Over 4 KiB, so the message is read where it lies: every record boundary from the server_name header to the end of
        // the ALPN list, over one span and in segments, gives the names of the whole hello.
        const string name = "straddle.default.dc1.internal.abc.consul";
        string protocol = new('p', 200);
        byte[] message = Handshake(Body(Extensions(
            Extension(21, new byte[5_000]), ServerName(name), Alpn("h2", protocol), SupportedVersions(0x0304, 0x0303))));
        int first = message.AsSpan().IndexOf(Ascii(name)) - 9;
        int last = message.AsSpan().IndexOf(Ascii(protocol)) + protocol.Length + 1;
        for (int split = first; split <= last; split++)
        {
            byte[] bytes = Concat(Record(message[..split]), Records(message[split..]));
            foreach (ReadOnlySequence<byte> input in new[] { new ReadOnlySequence<byte>(bytes), Segments.Every(bytes, 7) })
            {
                string how = $"records split at {split}";
                Assert.That(ClientHelloParser.Parse(input, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete), how);
                var alpn = new List<string>();
                foreach (ReadOnlySpan<byte> offered in hello.AlpnProtocols)
                {
                    alpn.Add(Encoding.ASCII.GetString(offered));
                }

                var versions = new List<ushort>();
                foreach (ushort version in hello.SupportedVersions)
                {
                    versions.Add(version);
                }

                Assert.That((hello.GetServerNameString(), hello.RecordCount, hello.BytesConsumed), Is.EqualTo((name, 2, bytes.Length)), how);
                Assert.That(alpn, Is.EqualTo(new[] { "h2", protocol }), how);
                Assert.That(versions, Is.EqualTo(new ushort[] { 0x0304, 0x0303 }), how);
            }
        }
    }

    [Test]
    public void Grammar_fault_in_a_hello_spread_over_records_is_named_once_the_records_are_whole()
    {
        // A second server_name after 5 KB of padding: the duplicate lies records away from the first.
        byte[] message = Handshake(Body(Extensions(ServerName("dup.example"), Extension(21, new byte[5_000]), ServerName("again.example"))));
        byte[] bytes = Records(message, 1_000);
        foreach (ReadOnlySequence<byte> input in new[] { new ReadOnlySequence<byte>(bytes), Segments.Every(bytes, 512) })
        {
            Assert.That(ClientHelloParser.Parse(input, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Invalid));
            Assert.That((hello.InvalidReason, hello.HasServerName, hello.ServerName.Length, hello.BytesConsumed),
                Is.EqualTo((ClientHelloInvalidReason.DuplicateExtension, false, 0, 0)));

            // Without its last byte the same hello only needs more data: the record walk answers before the grammar.
            Assert.That(ClientHelloParser.Parse(input.Slice(0, bytes.Length - 1), out _), Is.EqualTo(ClientHelloParseStatus.NeedMoreData));
        }
    }

    [Test]
    public void Server_name_after_a_large_alpn_list_over_records_and_segments_is_read_back()
    {
        // The rules read a message over 4 KiB where it lies, each moving one position on: after a 17 KB ALPN list that
        // crosses the record boundary the position stands far past the server name, which the parser then reads back.
        string[] protocols = [.. Enumerable.Range(0, 72).Select(i => $"x-large-{i:D2}-" + new string('p', 228))];
        const string name = "web.default.dc1.internal.abc.consul";
        byte[] message = Handshake(Body(Extensions(Alpn(protocols), Extension(21, new byte[100]), ServerName(name))));
        byte[] bytes = Records(message);
        foreach (int segment in new[] { 0, 512, 7 })
        {
            ReadOnlySequence<byte> input = segment == 0 ? new(bytes) : Segments.Every(bytes, segment);
            Assert.That(ClientHelloParser.Parse(input, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete), $"segments of {segment}");
            Assert.That((hello.GetServerNameString(), hello.AlpnProtocolCount, hello.ExtensionCount, hello.RecordCount, hello.BytesConsumed),
                Is.EqualTo((name, 72, 3, 2, bytes.Length)), $"segments of {segment}");
        }
    }

    [Test]
    public void Record_faults_in_a_large_hello_are_named_as_the_record_walk_names_them()
    {
        // A hello over 4 KiB whose records have all arrived is read in one pass that checks each record as it opens it; a
        // record fault there still gives the walk's outcome, not a grammar fault or a complete hello.
        byte[] message = PaddedHandshake("big.example", 9_000);
        byte[] first = Record(message.AsSpan(0, 4_000).ToArray());
        byte[] second = message.AsSpan(4_000, 4_000).ToArray();
        byte[] third = message.AsSpan(8_000).ToArray();
        var cases = new (string How, byte[] Bytes, ClientHelloParseStatus Status, ClientHelloInvalidReason Reason)[]
        {
            ("whole", Concat(first, Record(second), Record(third)), ClientHelloParseStatus.Complete, ClientHelloInvalidReason.None),
            ("alert as the second record", Concat(first, Record(second, contentType: 21), Record(third)), ClientHelloParseStatus.Invalid, ClientHelloInvalidReason.UnexpectedContentType),
            ("second record version 2.0", Concat(first, Record(second, version: 0x0200), Record(third)), ClientHelloParseStatus.Invalid, ClientHelloInvalidReason.BadRecordVersion),
            ("an empty record between", Concat(first, Record([]), Record(second), Record(third)), ClientHelloParseStatus.Invalid, ClientHelloInvalidReason.EmptyRecord),
            ("a byte after the hello in its last record", Concat(first, Record(second), Record([.. third, 0x16])), ClientHelloParseStatus.Invalid, ClientHelloInvalidReason.DataAfterClientHello),
            ("the last record not all there", Concat(first, Record(second), Record(third))[..^1], ClientHelloParseStatus.NeedMoreData, ClientHelloInvalidReason.None),
            ("a record over 2^14", Concat(first, Record(second, length: 16385), Record(third)), ClientHelloParseStatus.Invalid, ClientHelloInvalidReason.RecordTooLong),
        };

        foreach ((string how, byte[] bytes, ClientHelloParseStatus status, ClientHelloInvalidReason reason) in cases)
        {
            foreach (int segment in new[] { 0, 512 })
            {
                ReadOnlySequence<byte> input = segment == 0 ? new(bytes) : Segments.Every(bytes, segment);
                Assert.That(ClientHelloParser.Parse(input, out ClientHelloInfo hello), Is.EqualTo(status), $"{how}, segments of {segment}");
                Assert.That(hello.InvalidReason, Is.EqualTo(reason), $"{how}, segments of {segment}");
                Assert.That(hello.GetServerNameString(), Is.EqualTo(status == ClientHelloParseStatus.Complete ? "big.example" : null), $"{how}, segments of {segment}");
            }
        }
    }

    /// <summary>A handshake message of exactly <paramref name="length"/> bytes, a padding extension (21) filling it out.</summary>
    private static byte[] PaddedHandshake(string name, int length)
    {
        byte[] Build(int padding) =>
            Handshake(Body(Extensions(ServerName(name), Alpn("h2", "http/1.1"), SupportedVersions(0x0304), Extension(21, new byte[padding]))));

        return Build(length - Build(0).Length);
    }

    [Test]
    public void Grease_and_ech_are_accepted_and_reported()
    {
        byte[] bytes = Hello(Body(
            Extensions(Extension(0x0a0a, []), ServerName("public.example"), Extension(0xfe0d, [0, 1, 2, 3]), SupportedVersions(0x1a1a, 0x0304), Extension(0xfafa, [0])),
            cipherSuitesVector: Vec16(U16(0x2a2a), U16(0x1301))));
        Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That(hello.HasEncryptedClientHello, Is.True);
        Assert.That(hello.GetServerNameString(), Is.EqualTo("public.example"));
        Assert.That(hello.CipherSuiteCount, Is.EqualTo(2));
        var types = new List<ushort>();
        foreach (ushort type in hello.ExtensionTypes)
        {
            types.Add(type);
        }

        Assert.That(types, Is.EqualTo(new ushort[] { 0x0a0a, 0, 0xfe0d, 43, 0xfafa }));
    }

    [Test]
    public void Extensions_of_every_length_around_a_byte_boundary_end_where_their_two_length_bytes_say()
    {
        // Over one span the walk takes a short extension's end from its length's low byte: an extension of 256 bytes or
        // more, whose low byte alone would point inside it, must end where both bytes say. The data is filled with a
        // well-formed extension header at every offset, so a walk that stopped short would read a plausible one.
        foreach (int length in new[] { 0, 1, 2, 254, 255, 256, 257, 300, 511, 512, 513, 767, 1000, 4095, 4096, 4100 })
        {
            byte[] data = [.. Enumerable.Range(0, length).Select(i => (byte)(i % 4 == 1 ? 0x0a : 0x00))]; // 00 0a 00 00: supported_groups, empty
            byte[] bytes = Hello(Body(Extensions(Extension(21, data), ServerName("after.padding.example"), SupportedVersions(0x0304))));
            Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete), $"length {length}");
            Assert.That((hello.GetServerNameString(), hello.ExtensionCount, hello.HasSupportedVersions), Is.EqualTo(("after.padding.example", 3, true)), $"length {length}");
            Assert.That(ClientHelloParser.Parse(Segments.Every(bytes, 5), out ClientHelloInfo segmented), Is.EqualTo(ClientHelloParseStatus.Complete), $"length {length}, segments");
            Assert.That(segmented.GetServerNameString(), Is.EqualTo("after.padding.example"), $"length {length}, segments");
        }
    }

    [Test]
    public void Hundreds_of_distinct_extensions_are_legal()
    {
        byte[] bytes = Hello(Body(Extensions([ServerName("many.example"), .. Enumerable.Range(1000, 500).Select(t => Extension(t, []))])));
        Assert.That(ClientHelloParser.Parse(bytes, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That(hello.ExtensionCount, Is.EqualTo(501));
        Assert.That(hello.GetServerNameString(), Is.EqualTo("many.example"));
    }

    [Test]
    public void Each_hello_starts_with_no_extension_types_seen_even_after_hundreds()
    {
        // Past 64 unusual types the duplicate check moves to a set the thread keeps: nothing of one hello may carry over.
        byte[] distinct = Hello(Body(Extensions([.. Enumerable.Range(1000, 300).Select(t => Extension(t, []))])));
        byte[] repeated = Hello(Body(Extensions([.. Enumerable.Range(2000, 300).Select(t => Extension(t, [])), Extension(2299, [])])));
        for (int round = 0; round < 3; round++)
        {
            Assert.That(ClientHelloParser.Parse(distinct, out ClientHelloInfo first), Is.EqualTo(ClientHelloParseStatus.Complete));
            Assert.That(first.ExtensionCount, Is.EqualTo(300));
            Assert.That(ClientHelloParser.Parse(repeated, out ClientHelloInfo second), Is.EqualTo(ClientHelloParseStatus.Invalid));
            Assert.That(second.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.DuplicateExtension));
            Assert.That(ClientHelloParser.Parse(Segments.Every(distinct, 7), out _), Is.EqualTo(ClientHelloParseStatus.Complete));
        }
    }

    [Test]
    public void Hello_over_the_cap_is_too_large_as_soon_as_its_length_is_known()
    {
        byte[] header = Concat(Record(Concat(U8(1), U24(70_000)), length: 16384));
        Assert.That(ClientHelloParser.Parse(header, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.TooLarge));
        Assert.That(hello.HandshakeLength, Is.EqualTo(70_004));

        byte[] typical = Hello(TypicalBody());
        Assert.That(ClientHelloParser.Parse(typical, out _, maxHandshakeLength: typical.Length - 6), Is.EqualTo(ClientHelloParseStatus.TooLarge));
        Assert.That(ClientHelloParser.Parse(typical, out _, maxHandshakeLength: typical.Length - 5), Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That(ClientHelloParser.Parse(Segments.Every(typical, 1), out _, maxHandshakeLength: 64), Is.EqualTo(ClientHelloParseStatus.TooLarge));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientHelloParser.Parse(typical, out _, maxHandshakeLength: 3));
    }

    [Test]
    public void Missing_byte_count_follows_the_headers()
    {
        Assert.That(ClientHelloParser.Parse([], out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.NeedMoreData));
        Assert.That(hello.BytesMissing, Is.EqualTo(9), "a record header and a handshake header");

        // A 20 000-byte handshake needs two records: after the first header, the rest of both.
        byte[] start = Concat(U8(22), U16(0x0301), U16(16384), U8(1), U24(19_996));
        Assert.That(ClientHelloParser.Parse(start, out hello), Is.EqualTo(ClientHelloParseStatus.NeedMoreData));
        Assert.That(hello.BytesMissing, Is.EqualTo(16384 - 4 + 5 + (20_000 - 16384)));
    }

    [Test]
    public void Random_input_never_throws_and_agrees_across_segmentations()
    {
        var random = new Random(12345);
        byte[] seed = Hello(TypicalBody());
        for (int i = 0; i < 20_000; i++)
        {
            byte[] bytes = (byte[])seed.Clone();
            int flips = random.Next(1, 4);
            for (int f = 0; f < flips; f++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            int cut = random.Next(bytes.Length + 1);
            bytes = bytes[..cut];
            string whole = HelloSummary.Of(bytes);
            if (cut > 1)
            {
                string split = HelloSummary.Of(Segments.SplitAt(bytes, random.Next(1, cut)));
                Assert.That(split, Is.EqualTo(whole), Convert.ToHexString(bytes));
            }
        }
    }
}
