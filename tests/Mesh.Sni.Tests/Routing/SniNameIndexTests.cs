using System.Text;
using Mesh.Sni.Routing;

namespace Mesh.Sni.Tests.Routing;

/// <summary>The packed index under the route table: colliding hashes, field widths that grow with the table, reading while swapped.</summary>
public sealed class SniNameIndexTests
{
    private static List<(byte[] Name, int Route)> Names(IEnumerable<string> names) =>
        names.Select((name, i) => (Encoding.ASCII.GetBytes(name), i)).ToList();

    [Test]
    public void Names_whose_hashes_collide_each_find_their_own_route()
    {
        // The hash folds case by clearing bit 0x20, so '[' and '{' (and '@' and '`') hash alike: these names share a hash,
        // a fingerprint and a home slot, and only the comparison tells them apart.
        string[] names = ["a[", "a{", "@b", "`b", "service[.dc1.internal", "service{.dc1.internal"];
        Assert.That(names.Select(n => SniNameHash.Hash(Encoding.ASCII.GetBytes(n))).Distinct().Count(), Is.EqualTo(3), "the names collide in pairs");

        var index = new SniNameIndex(Names(names), names.Length, "server name");
        for (int i = 0; i < names.Length; i++)
        {
            byte[] name = Encoding.ASCII.GetBytes(names[i]);
            Assert.That(index.Find(SniNameHash.Hash(name), name), Is.EqualTo(i), names[i]);
            byte[] upper = Encoding.ASCII.GetBytes(names[i].ToUpperInvariant());
            Assert.That(index.Find(SniNameHash.Hash(upper), upper), Is.EqualTo(i), names[i].ToUpperInvariant());
        }

        byte[] absent = "b{"u8.ToArray();
        Assert.That(index.Find(SniNameHash.Hash(absent), absent), Is.EqualTo(-1));
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(255)]
    [TestCase(256)]
    [TestCase(257)]
    [TestCase(4097)]
    public void Every_name_resolves_whatever_the_table_size(int count)
    {
        var index = new SniNameIndex(Names(Enumerable.Range(0, count).Select(i => $"svc{i}.default.dc1")), count, "server name");
        Assert.That(index.Count, Is.EqualTo(count));
        for (int i = 0; i < count; i++)
        {
            byte[] name = Encoding.ASCII.GetBytes($"SVC{i}.default.dc1");
            Assert.That(index.Find(SniNameHash.Hash(name), name), Is.EqualTo(i));
        }

        byte[] other = Encoding.ASCII.GetBytes($"svc{count}.default.dc1");
        Assert.That(index.Find(SniNameHash.Hash(other), other), Is.EqualTo(-1));
    }

    [Test]
    public void Names_past_sixteen_megabytes_of_arena_and_route_indexes_past_a_million_resolve()
    {
        // 66,000 names of 255 bytes need 25 bits of offset, and route indexes up to 2^21 need 21 bits: the fields grow and
        // the fingerprint shrinks, and a name at the far end of the arena still resolves.
        const int Count = 66_000;
        const int RouteStride = 32;
        string Name(int i) => $"{i:D6}." + new string((char)('a' + (i % 26)), 248);
        var names = Enumerable.Range(0, Count).Select(i => (Encoding.ASCII.GetBytes(Name(i)), i * RouteStride)).ToList();
        var index = new SniNameIndex(names, Count * RouteStride, "server name");
        Assert.That(index.ArenaLength, Is.GreaterThan(1 << 24));
        foreach (int i in new[] { 0, 1, Count / 2, Count - 2, Count - 1 })
        {
            byte[] name = Encoding.ASCII.GetBytes(Name(i).ToUpperInvariant());
            Assert.That(name, Has.Length.EqualTo(255));
            Assert.That(index.Find(SniNameHash.Hash(name), name), Is.EqualTo(i * RouteStride));
        }
    }

    [Test]
    public void A_reader_sees_one_whole_table_or_the_other_while_tables_are_swapped()
    {
        // The gateway rebuilds its table when the catalog changes and swaps the reference while connections are routed.
        string[] names = Enumerable.Range(0, 1000).Select(i => $"svc{i}.default.dc1.internal.example.consul").ToArray();
        var first = new SniRouteTable<int>(names.Select(n => new KeyValuePair<string, int>(n, 1)));
        SniRouteTable<int> current = first;
        byte[][] queries = names.Select(Encoding.ASCII.GetBytes).ToArray();
        using var done = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            for (int version = 2; version < 200; version++)
            {
                Volatile.Write(ref current, new SniRouteTable<int>(names.Select(n => new KeyValuePair<string, int>(n, version))));
            }

            done.Cancel();
        });

        int lookups = 0;
        while (!done.IsCancellationRequested || lookups == 0)
        {
            SniRouteTable<int> table = Volatile.Read(ref current);
            int expected = -1;
            foreach (byte[] query in queries)
            {
                Assert.That(table.Lookup(query, out int value), Is.EqualTo(SniRouteMatch.Exact));
                expected = expected < 0 ? value : expected;
                Assert.That(value, Is.EqualTo(expected), "one table gives one version");
            }

            lookups++;
        }

        writer.Wait();
    }
}
