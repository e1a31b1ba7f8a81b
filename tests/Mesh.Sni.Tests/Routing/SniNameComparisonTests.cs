using Mesh.Sni.Routing;

namespace Mesh.Sni.Tests.Routing;

/// <summary>
/// The comparison under the route table folds A–Z and nothing else (RFC 4343 §3), whichever way a name's length has it
/// compared: byte by byte, eight bytes as a word, sixteen or thirty-two as a vector.
/// </summary>
public sealed class SniNameComparisonTests
{
    private static bool Folds(int input, int stored) => input == stored || (input is >= 'A' and <= 'Z' && stored == (input | 0x20));

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(16)]
    [TestCase(31)]
    [TestCase(32)]
    [TestCase(70)]
    [TestCase(255)]
    public void Every_pair_of_bytes_compares_as_DNS_does(int length)
    {
        byte[] name = new byte[length];
        byte[] stored = new byte[length];
        name.AsSpan().Fill((byte)'x');
        stored.AsSpan().Fill((byte)'x');
        foreach (int position in new[] { 0, length / 2, length - 1 })
        {
            for (int input = 0; input < 256; input++)
            {
                // The stored side is lower case: the table lower-cases its names when it is built.
                for (int lower = 0; lower < 256; lower++)
                {
                    if (lower is >= 'A' and <= 'Z')
                    {
                        continue;
                    }

                    name[position] = (byte)input;
                    stored[position] = (byte)lower;
                    if (SniNameComparison.EqualsLowerCase(name, ref stored[0]) != Folds(input, lower))
                    {
                        Assert.Fail($"0x{input:X2} against 0x{lower:X2} at {position} of {length}");
                    }
                }
            }

            name[position] = (byte)'x';
            stored[position] = (byte)'x';
        }
    }

    [Test]
    public void A_first_label_folds_only_its_letters()
    {
        // '[' and '{', '@' and '`', 0xC1 and 0xE1 differ by the case bit but are not letters.
        for (int input = 0; input < 256; input++)
        {
            for (int lower = 0; lower < 256; lower++)
            {
                foreach (int length in new[] { 1, 3, 8 })
                {
                    byte[] name = new byte[Math.Max(length, 9)];
                    byte[] stored = new byte[8];
                    name.AsSpan(0, length).Fill((byte)'k');
                    stored.AsSpan(0, length).Fill((byte)'k');
                    name[length - 1] = (byte)input;
                    stored[length - 1] = (byte)lower;
                    bool equal = SniNameComparison.ReadHead(name, length) == SniNameComparison.ReadHead(stored, length);
                    if (equal != (Folds(input, lower) || Folds(lower, input)))
                    {
                        Assert.Fail($"0x{input:X2} against 0x{lower:X2} as byte {length} of a first label");
                    }
                }
            }
        }
    }

    [Test]
    public void A_first_label_ignores_what_follows_it()
    {
        Assert.That(SniNameComparison.ReadHead("abc.default"u8, 3), Is.EqualTo(SniNameComparison.ReadHead("ABC"u8, 3)));
        Assert.That(SniNameComparison.ReadHead("ab"u8, 2), Is.EqualTo(0x6261UL));
    }
}
