using Mesh.Sni.ClientHello;

namespace Mesh.Sni.Tests.ClientHello;

/// <summary>
/// The host-name byte check against its definition (0x20–0x7e), for every length a host name can have and beyond, every
/// byte value at the edges of its blocks, and starts that do not fall on a vector boundary; and the check of a name where
/// it lies in its message, which must not judge the bytes around it.
/// </summary>
public sealed class PrintableAsciiTests
{
    [Test]
    public void Every_byte_value_at_every_position_of_every_host_name_length_is_judged_as_its_definition_says()
    {
        byte[] buffer = new byte[3 + 300];
        int checkedCases = 0;
        foreach (int start in new[] { 0, 1, 3 })
        {
            for (int length = 0; length <= 300; length++)
            {
                Span<byte> name = buffer.AsSpan(start, length);
                for (int i = 0; i < length; i++)
                {
                    name[i] = (byte)(0x20 + ((i * 7) % 95)); // 0x20 to 0x7e, both ends included
                }

                Assert.That(PrintableAscii.ContainsAnyOther(name), Is.False, $"printable, start {start}, length {length}");
                for (int position = 0; position < length; position++)
                {
                    byte kept = name[position];
                    for (int value = 0; value < 256; value++)
                    {
                        name[position] = (byte)value;
                        bool outside = value is < 0x20 or > 0x7e;
                        if (PrintableAscii.ContainsAnyOther(name) != outside)
                        {
                            Assert.Fail($"0x{value:x2} at {position} of {length} (start {start}): expected {(outside ? "outside" : "printable")}");
                        }

                        checkedCases++;
                    }

                    name[position] = kept;
                }
            }
        }

        Assert.That(checkedCases, Is.EqualTo(3 * 256 * (300 * 301 / 2)));
    }

    [Test]
    public void A_name_in_its_message_is_judged_by_its_own_bytes_and_never_by_the_bytes_around_it()
    {
        // Before and after the name, bytes no host name may hold: a check that reads a block reaching before the name, as
        // a short name's does, must leave them out of the answer, whatever the name's length and place.
        int checkedCases = 0;
        foreach (int before in new[] { 0, 5, 31, 47 })
        {
            foreach (int after in new[] { 0, 3 })
            {
                for (int length = 0; length <= 300; length++)
                {
                    byte[] message = new byte[before + length + after];
                    for (int i = 0; i < message.Length; i++)
                    {
                        message[i] = (byte)(i % 2 == 0 ? 0x00 : 0xff);
                    }

                    Span<byte> name = message.AsSpan(before, length);
                    for (int i = 0; i < length; i++)
                    {
                        name[i] = (byte)(0x20 + ((i * 7) % 95));
                    }

                    Assert.That(PrintableAscii.ContainsAnyOther(message, before, length), Is.False, $"printable, {before} before, length {length}, {after} after");
                    for (int position = 0; position < length; position++)
                    {
                        byte kept = name[position];
                        foreach (byte value in (byte[])[0x00, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff])
                        {
                            name[position] = value;
                            bool outside = value is < 0x20 or > 0x7e;
                            if (PrintableAscii.ContainsAnyOther(message, before, length) != outside)
                            {
                                Assert.Fail($"0x{value:x2} at {position} of {length} ({before} before, {after} after): expected {(outside ? "outside" : "printable")}");
                            }

                            checkedCases++;
                        }

                        name[position] = kept;
                    }
                }
            }
        }

        Assert.That(checkedCases, Is.EqualTo(4 * 2 * 7 * (300 * 301 / 2)));
    }
}
