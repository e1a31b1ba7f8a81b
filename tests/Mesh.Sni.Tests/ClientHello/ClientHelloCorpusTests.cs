using System.Buffers;
using System.Text;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Tests.Support;

namespace Mesh.Sni.Tests.ClientHello;

/// <summary>Real ClientHellos from real clients (tests/Corpus/clienthello), checked against the manifest's ground truth.</summary>
public sealed class ClientHelloCorpusTests
{
    private static IEnumerable<TestCaseData> Captures() =>
        ClientHelloCorpus.Entries.Select(e => new TestCaseData(e).SetArgDisplayNames(e.File));

    [Test]
    public void The_corpus_is_all_there()
    {
        Assert.That(ClientHelloCorpus.Entries, Has.Count.GreaterThanOrEqualTo(40));
        foreach (CorpusEntry entry in ClientHelloCorpus.Entries)
        {
            Assert.That(entry.Bytes, Has.Length.EqualTo(entry.SizeBytes), entry.File);
        }
    }

    [TestCaseSource(nameof(Captures))]
    public void Capture_matches_its_manifest_entry(CorpusEntry entry)
    {
        ClientHelloParseStatus status = ClientHelloParser.Parse(entry.Bytes, out ClientHelloInfo hello);

        Assert.That(status, Is.EqualTo(ClientHelloParseStatus.Complete), $"{hello.InvalidReason}");
        Assert.That(hello.Status, Is.EqualTo(ClientHelloParseStatus.Complete));
        Assert.That(hello.InvalidReason, Is.EqualTo(ClientHelloInvalidReason.None));
        Assert.That(hello.BytesConsumed, Is.EqualTo(entry.SizeBytes), "the file holds exactly the ClientHello's records");
        Assert.That(hello.RecordCount, Is.EqualTo(entry.RecordCount));
        Assert.That(hello.HandshakeLength, Is.EqualTo(entry.HandshakeMessageLength));
        Assert.That(hello.LegacyVersion, Is.EqualTo(entry.LegacyVersion));
        Assert.That(hello.CipherSuiteCount, Is.EqualTo(entry.CipherSuiteCount));

        Assert.That(hello.HasServerName, Is.EqualTo(entry.SniHostNames.Length > 0));
        Assert.That(hello.GetServerNameString(), Is.EqualTo(entry.SniHostNames.SingleOrDefault()));
        Assert.That(Encoding.ASCII.GetString(hello.ServerName), Is.EqualTo(entry.SniHostNames.SingleOrDefault() ?? string.Empty));

        var alpn = new List<string>();
        foreach (ReadOnlySpan<byte> protocol in hello.AlpnProtocols)
        {
            alpn.Add(Encoding.ASCII.GetString(protocol));
        }

        Assert.That(alpn, Is.EqualTo(entry.AlpnProtocols));
        Assert.That(hello.HasAlpn, Is.EqualTo(entry.AlpnProtocols.Length > 0));
        Assert.That(hello.AlpnProtocolCount, Is.EqualTo(entry.AlpnProtocols.Length));

        var versions = new List<ushort>();
        foreach (ushort version in hello.SupportedVersions)
        {
            versions.Add(version);
        }

        Assert.That(versions, Is.EqualTo(entry.SupportedVersions));
        Assert.That(hello.SupportedVersionCount, Is.EqualTo(entry.SupportedVersions.Length));
        Assert.That(hello.HasSupportedVersions, Is.EqualTo(entry.ExtensionTypes.Contains((ushort)43)));

        var extensions = new List<ushort>();
        foreach (ushort type in hello.ExtensionTypes)
        {
            extensions.Add(type);
        }

        Assert.That(extensions, Is.EqualTo(entry.ExtensionTypes));
        Assert.That(hello.ExtensionCount, Is.EqualTo(entry.ExtensionTypes.Length));
        Assert.That(hello.HasEncryptedClientHello, Is.EqualTo(entry.ExtensionTypes.Contains((ushort)0xfe0d)));
    }

    [Test]
    public void Bytes_after_the_hello_are_left_for_the_caller()
    {
        foreach (CorpusEntry entry in ClientHelloCorpus.Entries)
        {
            // A TLS 1.3 client may send early data or a ChangeCipherSpec right after its hello.
            byte[] followed = [.. entry.Bytes, 0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
            Assert.That(ClientHelloParser.Parse(followed, out ClientHelloInfo hello), Is.EqualTo(ClientHelloParseStatus.Complete), entry.File);
            Assert.That(hello.BytesConsumed, Is.EqualTo(entry.SizeBytes), entry.File);
        }
    }

    [Test]
    public void Every_prefix_of_every_capture_needs_more_data()
    {
        foreach (CorpusEntry entry in ClientHelloCorpus.Entries)
        {
            for (int length = 0; length < entry.Bytes.Length; length++)
            {
                ClientHelloParseStatus status = ClientHelloParser.Parse(entry.Bytes.AsSpan(0, length), out ClientHelloInfo hello);
                if (status != ClientHelloParseStatus.NeedMoreData)
                {
                    Assert.Fail($"{entry.File}: the first {length} bytes gave {status} {hello.InvalidReason}");
                }

                // A lower bound, never past the real end.
                if (hello.BytesMissing < 1 || hello.BytesMissing > entry.Bytes.Length - length)
                {
                    Assert.Fail($"{entry.File}: the first {length} bytes said {hello.BytesMissing} missing, {entry.Bytes.Length - length} really are");
                }
            }

            // Once the record headers are in, the count is exact for single-record hellos.
            if (entry.RecordCount == 1)
            {
                ClientHelloParser.Parse(entry.Bytes.AsSpan(0, 9), out ClientHelloInfo partial);
                Assert.That(partial.BytesMissing, Is.EqualTo(entry.Bytes.Length - 9), entry.File);
            }
        }
    }

    [Test]
    public void Every_prefix_as_a_segmented_sequence_needs_more_data()
    {
        foreach (CorpusEntry entry in ClientHelloCorpus.Entries)
        {
            int step = Math.Max(1, entry.Bytes.Length / 97);
            for (int length = 0; length < entry.Bytes.Length; length += step)
            {
                byte[] prefix = entry.Bytes[..length];
                ReadOnlySequence<byte> sequence = Segments.Every(prefix, 7);
                Assert.That(ClientHelloParser.Parse(sequence, out _), Is.EqualTo(ClientHelloParseStatus.NeedMoreData), $"{entry.File} prefix {length}");
            }
        }
    }

    [Test]
    public void Every_split_point_gives_the_same_result_as_the_whole()
    {
        foreach (CorpusEntry entry in ClientHelloCorpus.Entries)
        {
            string whole = HelloSummary.Of(entry.Bytes);
            Assert.That(whole, Does.StartWith("Complete"), entry.File);
            for (int at = 1; at < entry.Bytes.Length; at++)
            {
                string split = HelloSummary.Of(Segments.SplitAt(entry.Bytes, at));
                if (split != whole)
                {
                    Assert.Fail($"{entry.File} split at {at}:\n  {split}\nwhole:\n  {whole}");
                }
            }
        }
    }

    [Test]
    public void One_byte_and_512_byte_segments_give_the_same_result_as_the_whole()
    {
        foreach (CorpusEntry entry in ClientHelloCorpus.Entries)
        {
            string whole = HelloSummary.Of(entry.Bytes);
            foreach (int size in (int[])[1, 2, 3, 5, 512, 1448])
            {
                Assert.That(HelloSummary.Of(Segments.Every(entry.Bytes, size)), Is.EqualTo(whole), $"{entry.File} in {size}-byte segments");
            }
        }
    }

    [Test]
    public void A_sequence_over_part_of_an_array_is_read_only_there()
    {
        // A caller's receive buffer: other bytes before the hello, and after the part received so far the rest of the hello,
        // which the parse must not see.
        byte[] before = [0x17, 0x03, 0x03, 0x00, 0x20, 0x16, 0x03, 0x01];
        int prefixes = 0;
        foreach (CorpusEntry entry in ClientHelloCorpus.Entries)
        {
            byte[] buffer = [.. before, .. entry.Bytes, 0x16, 0x03, 0x01, 0x00, 0x04];
            int step = Math.Max(1, entry.Bytes.Length / 61);
            for (int length = 0; length < entry.Bytes.Length; length += step)
            {
                Check(entry, buffer, length);
                prefixes++;
            }

            Check(entry, buffer, entry.Bytes.Length);
        }

        Assert.That(prefixes, Is.GreaterThan(ClientHelloCorpus.Entries.Count * 60));

        void Check(CorpusEntry entry, byte[] buffer, int length) =>
            Assert.That(HelloSummary.Of(new ReadOnlySequence<byte>(buffer, before.Length, length)), Is.EqualTo(HelloSummary.Of(entry.Bytes[..length])),
                $"{entry.File}, first {length} bytes");
    }

    [Test]
    public void Parsing_allocates_nothing_for_any_capture_or_segmentation()
    {
        foreach (CorpusEntry entry in ClientHelloCorpus.Entries)
        {
            foreach (ReadOnlySequence<byte> sequence in new[] { new ReadOnlySequence<byte>(entry.Bytes), Segments.Every(entry.Bytes, 512), Segments.Every(entry.Bytes, 1) })
            {
                ParseAndRead(sequence);
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 10; i++)
                {
                    ParseAndRead(sequence);
                }

                Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, $"{entry.File}, {sequence.Length}-byte sequence");
            }
        }

        static int ParseAndRead(ReadOnlySequence<byte> sequence)
        {
            ClientHelloParser.Parse(sequence, out ClientHelloInfo hello);
            int sum = hello.ServerName.Length;
            foreach (ReadOnlySpan<byte> protocol in hello.AlpnProtocols)
            {
                sum += protocol.Length;
            }

            foreach (ushort version in hello.SupportedVersions)
            {
                sum += version;
            }

            foreach (ushort type in hello.ExtensionTypes)
            {
                sum += type;
            }

            return sum;
        }
    }
}
