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
        // 66,000 names of 255 bytes, each kept whole (a first label longer than a slot keeps), need 25 bits of offset, and
        // route indexes up to 2^21 need 21 bits: the fields grow and the fingerprint shrinks, and a name at the far end of
        // the arena still resolves.
        const int Count = 66_000;
        const int RouteStride = 32;
        string Name(int i) => $"{i:D9}." + new string((char)('a' + (i % 26)), 245);
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
    public void A_run_of_names_that_reaches_the_end_of_the_slots_spreads_them_over_twice_the_slots()
    {
        // 70 names take 256 slots (64 buckets of four), and these 70 all have the last bucket as home: their run would pass
        // the 16 buckets that follow the last home bucket, so the index doubles its buckets (where about half of the names
        // move to the new last bucket).
        List<string> names = Enumerable.Range(0, int.MaxValue)
            .Select(i => $"svc{i}.default.dc1")
            .Where(name => (SniNameHash.Hash(Encoding.ASCII.GetBytes(name)) & 63) == 63)
            .Take(70)
            .ToList();

        var index = new SniNameIndex(Names(names), names.Count, "server name");
        Assert.That(index.SlotCount, Is.EqualTo(512));
        for (int i = 0; i < names.Count; i++)
        {
            byte[] name = Encoding.ASCII.GetBytes(names[i].ToUpperInvariant());
            Assert.That(index.Find(SniNameHash.Hash(name), name), Is.EqualTo(i), names[i]);
        }

        byte[] absent = Encoding.ASCII.GetBytes("svc-1.default.dc1");
        Assert.That(index.Find(SniNameHash.Hash(absent), absent), Is.EqualTo(-1));
    }

    [Test]
    public void Names_past_a_full_home_bucket_take_their_own_routes_from_the_table()
    {
        // Twelve names of a table of twelve (eight buckets of four) that all have the first bucket as home fill it and the
        // next two: the table keeps each route at its name's slot, not at the home slot it reads ahead.
        List<string> names = Enumerable.Range(0, int.MaxValue)
            .Select(i => $"svc{i}.default.dc1")
            .Where(name => (SniNameHash.Hash(Encoding.ASCII.GetBytes(name)) & 7) == 0)
            .Take(12)
            .ToList();
        var table = new SniRouteTable<string>(names.Select(n => new KeyValuePair<string, string>(n, "route-" + n)));
        foreach (string name in names)
        {
            Assert.That(table.Lookup(Encoding.ASCII.GetBytes(name.ToUpperInvariant()), out string? route), Is.EqualTo(SniRouteMatch.Exact), name);
            Assert.That(route, Is.EqualTo("route-" + name));
        }

        Assert.That(table.Lookup("svc-1.default.dc1"u8, out string? none), Is.EqualTo(SniRouteMatch.None));
        Assert.That(none, Is.Null);
    }

    [Test]
    public void First_labels_up_to_eight_bytes_are_kept_in_the_slot_and_each_tail_once()
    {
        // One to nine bytes before the dot, names without a dot, and names that share a first label or a tail: only the
        // whole name matches, whichever part is kept where.
        string[] names =
        [
            "a.default.dc1", "ab.default.dc1", "abcdefg.default.dc1", "abcdefgh.default.dc1", "abcdefghi.default.dc1",
            "abcdefgh.default.dc2", "abcdefgh", "abcdefghi", "a", "z9-_", "abcdefgh.", ".default.dc1",
        ];
        var index = new SniNameIndex(Names(names), names.Length, "server name");
        for (int i = 0; i < names.Length; i++)
        {
            foreach (string query in new[] { names[i], names[i].ToUpperInvariant() })
            {
                byte[] name = Encoding.ASCII.GetBytes(query);
                Assert.That(index.Find(SniNameHash.Hash(name), name), Is.EqualTo(i), query);
            }
        }

        foreach (string other in new[] { "b.default.dc1", "abcdefgi.default.dc1", "abcdefgh.default.dc3", "abcdefg", "abcdefgh.d", "ab", "abcdefghij", "abcdefgh.default.dc" })
        {
            byte[] name = Encoding.ASCII.GetBytes(other);
            Assert.That(index.Find(SniNameHash.Hash(name), name), Is.EqualTo(-1), other);
        }

        // 1,000 services of one namespace and datacenter keep their common tail once.
        var many = new SniNameIndex(Names(Enumerable.Range(0, 1000).Select(i => $"svc{i}.default.dc1")), 1000, "server name");
        Assert.That(many.ArenaLength, Is.EqualTo(1 + 1 + ".default.dc1".Length));
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
