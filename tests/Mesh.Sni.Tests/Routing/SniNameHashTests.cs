using System.Text;
using Mesh.Sni.Routing;

namespace Mesh.Sni.Tests.Routing;

/// <summary>A suffix hashed from the sums its name's hash kept equals the suffix hashed on its own, as a wildcard is.</summary>
public sealed class SniNameHashTests
{
    [TestCase(1)]
    [TestCase(16)]
    [TestCase(17)]
    [TestCase(32)]
    [TestCase(33)]
    [TestCase(72)]
    [TestCase(253)]
    [TestCase(255)]
    public void Every_suffix_hashes_as_its_own_text(int length)
    {
        string text = string.Concat(Enumerable.Range(0, length).Select(i => (char)('a' + ((i * 7) % 26))));
        byte[] name = Encoding.ASCII.GetBytes(text.ToUpperInvariant());
        Span<ulong> sums = stackalloc ulong[SniNameHash.MaxSums];
        ulong whole = SniNameHash.Hash(name, sums);
        Assert.That(whole, Is.EqualTo(SniNameHash.Hash(Encoding.ASCII.GetBytes(text))), "case folds");
        for (int suffix = 1; suffix <= length; suffix++)
        {
            ulong expected = SniNameHash.Hash(name.AsSpan(length - suffix));
            if (SniNameHash.SuffixHash(name, sums, suffix) != expected)
            {
                Assert.Fail($"the last {suffix} bytes of {length}");
            }
        }
    }

    [Test]
    public void Names_that_differ_in_one_byte_or_in_order_hash_apart()
    {
        // Not a guarantee (a collision costs a comparison), but the steps must not cancel out: the same sixteen bytes at
        // another position, or two steps swapped, give another hash.
        string first = new('a', 16);
        string second = new('b', 16);
        Assert.That(SniNameHash.Hash(Encoding.ASCII.GetBytes(first + second + "c")), Is.Not.EqualTo(SniNameHash.Hash(Encoding.ASCII.GetBytes(second + first + "c"))));
        var hashes = new HashSet<ulong>();
        for (int i = 0; i < 10_000; i++)
        {
            hashes.Add(SniNameHash.Hash(Encoding.ASCII.GetBytes($"svc{i}.default.dc1.internal.11111111-2222-3333-4444-555555555555.consul")));
        }

        Assert.That(hashes, Has.Count.EqualTo(10_000));
    }
}
