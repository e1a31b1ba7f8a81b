using System.Text;
using Mesh.ControlPlane.File;
using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

/// <summary>Consul's normalization and validation of <c>service-intentions</c> entries, as Mesh's reader must apply them.</summary>
public sealed class IntentionJsonConsulRulesTests
{
    private const string Ns1Entry = """{"Name":"api","Namespace":"ns1","Sources":[{"Name":"web","Action":"deny"}]}""";

    [Test]
    public void A_source_without_namespace_takes_the_entry_namespace()
    {
        var set = new IntentionSet(IntentionJson.ReadConfigEntries(Ns1Entry), IntentionAction.Allow);
        Assert.Multiple(() =>
        {
            Assert.That(set.Decide(new ServiceName("web", "ns1"), new ServiceName("api", "ns1")).IsAllowed, Is.False, "ns1/web is the source Consul means");
            Assert.That(set.Decide(new ServiceName("web"), new ServiceName("api", "ns1")).IsAllowed, Is.True, "default/web is not named by the entry");
        });
    }

    [Test]
    public void A_source_without_partition_takes_the_entry_partition_and_namespace()
    {
        const string json = """{"Name":"api","Namespace":"ns1","Partition":"ap1","Sources":[{"Name":"web","Action":"deny"},{"Name":"db","Namespace":"default","Action":"deny"}]}""";
        IReadOnlyList<Intention> intentions = IntentionJson.ReadConfigEntries(json);
        Assert.Multiple(() =>
        {
            Assert.That(intentions[0].Source, Is.EqualTo(new IntentionSource("web", "ns1", "ap1")));
            Assert.That(intentions[1].Source, Is.EqualTo(new IntentionSource("db", "default", "ap1")), "a namespace given is kept");
        });
    }

    [Test]
    public void A_peered_source_and_a_wildcard_entry_namespace_are_not_inherited()
    {
        const string json = """
            [{"Name":"api","Namespace":"ns1","Sources":[{"Name":"web","Peer":"east","Action":"allow"}]},
             {"Name":"*","Namespace":"*","Sources":[{"Name":"web","Action":"allow"}]}]
            """;
        IReadOnlyList<Intention> intentions = IntentionJson.ReadConfigEntries(json);
        Assert.Multiple(() =>
        {
            Assert.That(intentions[0].Source, Is.EqualTo(new IntentionSource("web", "default", null, "east")));
            Assert.That(intentions[1].Source, Is.EqualTo(new IntentionSource("web", "default")), "Consul merges no wildcard namespace into a source");
        });
    }

    [Test]
    public void The_control_plane_file_applies_the_same_inheritance()
    {
        string json = ControlPlane.ControlPlaneFileTests.TwoDatacenters
            .Replace("\"Intentions\": [ { \"Kind\": \"service-intentions\", \"Name\": \"counting\", \"Sources\": [ { \"Name\": \"dashboard\", \"Action\": \"allow\" } ] } ]",
                "\"DefaultIntentionPolicy\": \"allow\", \"Intentions\": [ " + Ns1Entry + " ]", StringComparison.Ordinal);
        IntentionSet set = ControlPlaneConfiguration.Parse(Encoding.UTF8.GetBytes(json), "file.json").Intentions;
        Assert.Multiple(() =>
        {
            Assert.That(set.Decide(new ServiceName("web", "ns1"), new ServiceName("api", "ns1")).IsAllowed, Is.False);
            Assert.That(set.Decide(new ServiceName("web"), new ServiceName("api", "ns1")).IsAllowed, Is.True);
        });
    }

    [Test]
    public void Sources_in_another_namespace_than_the_entry_round_trip()
    {
        var intentions = new[]
        {
            new Intention(new IntentionSource("web"), new IntentionDestination("api", "ns1"), IntentionAction.Deny),
            new Intention(new IntentionSource("admin", "ns1"), new IntentionDestination("api", "ns1"), IntentionAction.Allow),
            new Intention(new IntentionSource("web", "ns2", "ap1"), new IntentionDestination("db", null, "ap2"), IntentionAction.Allow),
            new Intention(new IntentionSource("web", null, null, "east"), new IntentionDestination("db", null, "ap2"), IntentionAction.Allow),
        };
        IReadOnlyList<Intention> read = IntentionJson.ReadConfigEntries(IntentionJson.WriteConfigEntries(intentions));
        Assert.That(read.Select(i => (i.Source, i.Destination)), Is.EqualTo(intentions.Select(i => (i.Source, i.Destination))));
    }

    [Test]
    public void A_source_with_both_peer_and_partition_is_refused()
    {
        var e = Assert.Throws<IntentionValidationException>(() =>
            IntentionJson.ReadConfigEntries("""{"Name":"api","Sources":[{"Name":"web","Peer":"east","Partition":"ap1","Action":"allow"}]}"""))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Rule, Is.EqualTo(IntentionValidationRule.PeerWithPartition));
            Assert.That(e.Field, Is.EqualTo("Sources[0].Peer"));
        });
    }

    [TestCase("""{"PathPrefix":"/admin","path_prefix":"/"}""")]
    [TestCase("""{"path_prefix":"/","PathPrefix":"/admin"}""")]
    [TestCase("""{"path_prefix":"/","pathprefix":"/admin"}""")]
    public void The_canonical_key_wins_over_its_snake_case_alias(string http)
    {
        string json = $$$"""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{{{http}}}}]}]}""";
        Assert.That(IntentionJson.ReadConfigEntries(json)[0].Permissions[0].Http.PathPrefix, Is.EqualTo("/admin"));
    }

    [Test]
    public void The_canonical_key_wins_in_every_object_of_the_entry()
    {
        const string json = """
            {"Name":"api","Sources":[{"Name":"web","legacy_id":"alias","LegacyID":"canonical",
              "Permissions":[{"Action":"allow","HTTP":{"Header":[{"Name":"x","Exact":"a","exact":"b"}],"path_exact":"/x","PathExact":"/y"}}]}]}
            """;
        Intention intention = IntentionJson.ReadConfigEntries(json)[0];
        Assert.Multiple(() =>
        {
            Assert.That(intention.Id, Is.EqualTo("canonical"));
            Assert.That(intention.Permissions[0].Http.PathExact, Is.EqualTo("/y"));
        });
    }

    [Test]
    public void Comments_are_skipped_and_metadata_keys_stay_as_written()
    {
        const string json = """
            // the api's callers
            { "Name": "api", "Meta": /* owner */ { "owner_team": "blue" },
              "Sources": [ { "Name": "web", /* the frontend */ "Action": "allow" } ] }
            """;
        Intention intention = IntentionJson.ReadConfigEntries(json)[0];
        Assert.Multiple(() =>
        {
            Assert.That(intention.Action, Is.EqualTo(IntentionAction.Allow));
            Assert.That(intention.Meta["owner_team"], Is.EqualTo("blue"));
        });
    }

    [TestCase("ALLOW")]
    [TestCase("Allow")]
    [TestCase("Deny")]
    public void The_action_is_case_sensitive(string action)
    {
        var l4 = Assert.Throws<IntentionValidationException>(() =>
            IntentionJson.ReadConfigEntries($$$"""{"Name":"api","Sources":[{"Name":"web","Action":"{{{action}}}"}]}"""))!;
        var l7 = Assert.Throws<IntentionValidationException>(() =>
            IntentionJson.ReadConfigEntries($$$"""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"{{{action}}}","HTTP":{"PathPrefix":"/"}}]}]}"""))!;
        var flat = Assert.Throws<IntentionValidationException>(() =>
            IntentionJson.ReadIntentionList($$$"""[{"SourceName":"web","DestinationName":"api","Action":"{{{action}}}"}]"""))!;
        Assert.Multiple(() =>
        {
            Assert.That(l4.Rule, Is.EqualTo(IntentionValidationRule.InvalidAction));
            Assert.That(l7.Rule, Is.EqualTo(IntentionValidationRule.InvalidPermissionAction));
            Assert.That(flat.Rule, Is.EqualTo(IntentionValidationRule.InvalidAction));
        });
    }

    [Test]
    public void A_10_KB_name_is_quoted_once_and_at_most_100_characters()
    {
        string name = new('n', 10_000);
        foreach (string json in new[]
        {
            $$$"""{"Name":"{{{name}}}","Sources":[{"Name":"web","Action":"allow"}]}""",
            $$$"""{"Name":"api","Sources":[{"Name":"{{{name}}}","Action":"allow"}]}""",
            $$$"""{"Name":"api","Sources":[{"Name":"web","Namespace":"{{{name}}}","Action":"allow"}]}""",
            $$$"""{"Name":"api","Sources":[{"Name":"web","Action":"{{{name}}}"}]}""",
            $$$"""{"Name":"api","Kind":"{{{name}}}","Sources":[{"Name":"web","Action":"allow"}]}""",
            $$$"""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathPrefix":"{{{name}}}"}}]}]}""",
            $$$"""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathRegex":"/{{{name}}}("}}]}]}""",
            $$$"""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Methods":["{{{name}}}"]}}]}]}""",
            $$$"""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Header":[{"Name":"{{{name}}}"}]}}]}]}""",
            $$$"""{"Name":"api","Sources":[{"Name":"web","Type":"{{{name}}}","Action":"allow"}]}""",
            $$$"""{"Name":"api","{{{name}}}":1,"Sources":[{"Name":"web","Action":"allow"}]}""",
            $$$"""{"Name":"api","Meta":{"{{{name}}}":"v"},"Sources":[{"Name":"web","Action":"allow"}]}""",
        })
        {
            var e = Assert.Throws<IntentionValidationException>(() => IntentionJson.ReadConfigEntries(json))!;
            string quoted = new('n', 100);
            int first = e.Message.IndexOf(quoted, StringComparison.Ordinal);
            Assert.Multiple(() =>
            {
                Assert.That(e.Message, Does.Not.Contain(new string('n', 101)), e.Message);
                Assert.That(first < 0 || e.Message.IndexOf(quoted, first + 100, StringComparison.Ordinal) < 0, Is.True, e.Message);
            });
        }
    }
}
