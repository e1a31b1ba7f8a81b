using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

public sealed class PrecedenceTests
{
    // consul-semantics §5: rows are the source (ns/name), columns the destination (exact/exact, exact/*, */*).
    private static readonly (string SourceNs, string SourceName, string DestNs, string DestName, int Precedence)[] Table =
    [
        ("default", "web", "default", "api", 9),
        ("default", "web", "default", "*", 6),
        ("default", "web", "*", "*", 3),
        ("default", "*", "default", "api", 8),
        ("default", "*", "default", "*", 5),
        ("default", "*", "*", "*", 2),
        ("*", "*", "default", "api", 7),
        ("*", "*", "default", "*", 4),
        ("*", "*", "*", "*", 1),
    ];

    [Test]
    public void Precedence_follows_the_table_and_ignores_partition_and_peer()
    {
        foreach (var row in Table)
        {
            foreach ((string? partition, string? peer) in new[] { ((string?)null, (string?)null), ("p1", null), (null, "east") })
            {
                var intention = new Intention(new IntentionSource(row.SourceName, row.SourceNs, partition, peer), new IntentionDestination(row.DestName, row.DestNs, partition), IntentionAction.Allow);
                Assert.That(intention.Precedence, Is.EqualTo(row.Precedence), $"{row.SourceNs}/{row.SourceName} => {row.DestNs}/{row.DestName} partition={partition} peer={peer}");
            }
        }
    }

    [Test]
    public void Set_lists_intentions_in_consul_order_precedence_then_source_ns_name_then_destination_ns_name()
    {
        Intention I(string sns, string sn, string dns, string dn) => new(new IntentionSource(sn, sns), new IntentionDestination(dn, dns), IntentionAction.Deny);
        Intention[] expected =
        [
            I("default", "web", "default", "api"),  // 9
            I("default", "web", "ns2", "api"),      // 9, dest ns later
            I("ns1", "a", "default", "api"),        // 9, source ns later
            I("ns1", "b", "default", "api"),        // 9, source name later
            I("ns1", "*", "default", "api"),        // 8
            I("*", "*", "default", "api"),          // 7
            I("*", "*", "default", "billing"),      // 7, dest name later
            I("default", "web", "default", "*"),    // 6
            I("default", "*", "default", "*"),      // 5
            I("*", "*", "ns1", "*"),                // 4
            I("default", "web", "*", "*"),          // 3
            I("default", "*", "*", "*"),            // 2
            I("*", "*", "*", "*"),                  // 1
        ];

        var shuffled = expected.ToArray();
        new Random(7).Shuffle(shuffled);
        var set = new IntentionSet(shuffled);

        Assert.That(set.Intentions, Is.EqualTo(expected));
        Assert.That(set.Intentions.Select(i => i.Precedence), Is.EqualTo(new[] { 9, 9, 9, 9, 8, 7, 7, 6, 5, 4, 3, 2, 1 }));
    }

    [Test]
    public void Ties_compare_ordinally_as_go_compares_bytes()
    {
        // 'Z' (0x5A) sorts before 'a' (0x61) in Go; a culture-aware comparison would put "a" first.
        var upper = new Intention(new IntentionSource("Zed"), new IntentionDestination("api"), IntentionAction.Allow);
        var lower = new Intention(new IntentionSource("alpha"), new IntentionDestination("api"), IntentionAction.Allow);
        Assert.That(new IntentionSet([lower, upper]).Intentions, Is.EqualTo(new[] { upper, lower }));
    }
}
