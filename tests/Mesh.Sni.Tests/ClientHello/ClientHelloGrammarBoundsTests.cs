using System.Buffers.Binary;
using CsCheck;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Tests.Support;

namespace Mesh.Sni.Tests.ClientHello;

/// <summary>
/// The grammar's side of its contract with the message it reads (<see cref="IHandshakeMessage"/>): it checks every length
/// before it reads, so no read falls outside the message. The parser relies on it: over one span the fixed-size reads are
/// not checked again. Here the grammar reads through a message that refuses any read outside it, and must give the same
/// answer as through the parser's own.
/// </summary>
public sealed class ClientHelloGrammarBoundsTests
{
    [Test]
    public void Every_capture_and_every_cut_of_it_is_read_only_inside_its_message()
    {
        int runs = 0;
        foreach (CorpusEntry entry in ClientHelloCorpus.Entries)
        {
            byte[] message = MessageOf(entry.Bytes);
            for (int length = message.Length; length >= 0; length--)
            {
                AssertReadsInside(message.AsSpan(0, length), entry.File);
                runs++;
            }
        }

        Assert.That(runs, Is.GreaterThan(ClientHelloCorpus.Entries.Count * 200));
    }

    [Test]
    public void Random_and_mutated_hellos_are_read_only_inside_their_message()
    {
        byte[][] messages = [.. ClientHelloCorpus.Entries.Select(e => MessageOf(e.Bytes)), HelloBuilder.Handshake(HelloBuilder.TypicalBody())];

        // Mutations aim at lengths: one to eight bytes past the handshake header set to random or extreme values, and in a
        // third of the cases the message cut short as well.
        Gen<byte> value = Gen.Frequency((3, Gen.Byte), (1, Gen.OneOfConst<byte>(0, 1, 2, 3, 4, 0x7f, 0x80, 0xfe, 0xff)));
        Gen<(int Which, (int At, byte Value)[] Changes, int Cut)> mutation = Gen.Select(
            Gen.Int[0, messages.Length - 1], Gen.Select(Gen.Int[0, 20_000], value).Array[1, 8], Gen.Int[0, 20_000]);
        mutation.Sample(m =>
        {
            byte[] bytes = (byte[])messages[m.Which].Clone();
            foreach ((int at, byte b) in m.Changes)
            {
                bytes[4 + (at % Math.Max(1, bytes.Length - 4))] = b;
            }

            int length = bytes.Length - (m.Cut % 3 == 0 ? m.Cut % Math.Max(1, bytes.Length) : 0);
            AssertReadsInside(bytes.AsSpan(0, length), $"hello {m.Which} changed at {string.Join(",", m.Changes.Select(c => c.At))}");
        }, iter: 20_000);

        // Bytes with no structure at all, behind a handshake header.
        Gen.Byte.Array[0, 700].Sample(body => AssertReadsInside(HelloBuilder.Handshake(body), "random body"), iter: 5_000);
    }

    private static void AssertReadsInside(ReadOnlySpan<byte> message, string what)
    {
        // The bounded message first: a read outside it is caught before the parser's own reader, which does not check,
        // makes it.
        ClientHelloInfo actual = default;
        ClientHelloInvalidReason reason;
        try
        {
            reason = ClientHelloBody.Parse(new BoundedMessage(message), ref actual);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new AssertionException($"{what} ({message.Length} bytes): {e.Message}");
        }

        ClientHelloInfo expected = default;
        ClientHelloInvalidReason expectedReason = ClientHelloBody.Parse(new ContiguousMessage(message), ref expected);
        if (reason != expectedReason || actual._serverNameOffset != expected._serverNameOffset || actual._alpnCount != expected._alpnCount
            || actual._extensionCount != expected._extensionCount || actual._versionsLength != expected._versionsLength)
        {
            throw new AssertionException($"{what} ({message.Length} bytes): {reason} through a bounded message, {expectedReason} through the parser's");
        }
    }

    /// <summary>The handshake message the records of a capture carry, gathered out of them.</summary>
    private static byte[] MessageOf(byte[] records)
    {
        var fragments = new List<byte>();
        for (int at = 0; at + 5 <= records.Length; at += 5 + BinaryPrimitives.ReadUInt16BigEndian(records.AsSpan(at + 3)))
        {
            int length = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(records.AsSpan(at + 3)), records.Length - at - 5);
            fragments.AddRange(records.AsSpan(at + 5, length).ToArray());
        }

        int message = 4 + ((fragments[1] << 16) | (fragments[2] << 8) | fragments[3]);
        return [.. fragments.Take(message)];
    }

    /// <summary>A message over one span that refuses every read outside it.</summary>
    private readonly ref struct BoundedMessage(ReadOnlySpan<byte> bytes) : IHandshakeMessage
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;

        public int Length => _bytes.Length;

        public byte ReadUInt8(int offset) => Inside(offset, 1)[0];

        public int ReadUInt16(int offset) => BinaryPrimitives.ReadUInt16BigEndian(Inside(offset, 2));

        public uint ReadUInt32(int offset) => BinaryPrimitives.ReadUInt32BigEndian(Inside(offset, 4));

        public int ExtensionEnd(int offset, uint header)
        {
            // The end must follow from the header where it lies, which must be the one the grammar was given.
            int length = BinaryPrimitives.ReadUInt16BigEndian(Inside(offset + 2, 2));
            return length == (header & 0xffff)
                ? offset + 4 + length
                : throw new ArgumentException($"the header at {offset} is not the one given", nameof(header));
        }

        public ReadOnlySpan<byte> ReadRun(int offset, int maxLength) => Inside(offset, maxLength);

        public bool ContainsNonPrintableAscii(int offset, int length) => PrintableAscii.ContainsAnyOther(Inside(offset, length));

        private ReadOnlySpan<byte> Inside(int offset, int size) =>
            offset >= 0 && size >= 0 && offset <= _bytes.Length - size
                ? _bytes.Slice(offset, size)
                : throw new ArgumentOutOfRangeException(nameof(offset), $"a read of {size} bytes at {offset} of a {_bytes.Length}-byte message");
    }
}
