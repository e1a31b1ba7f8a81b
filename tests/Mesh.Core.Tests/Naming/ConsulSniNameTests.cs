using Mesh.Identity;
using Mesh.Naming;

namespace Mesh.Core.Tests.Naming;

public sealed class ConsulSniNameTests
{
    private const string TdName = "7f42f496-fbc7-8692-05ed-334aa5340c1e.consul";
    private static readonly TrustDomain Td = TrustDomain.Parse(TdName);

    private static IEnumerable<(ConsulSniName Name, string Expected)> EveryForm()
    {
        yield return (ConsulSniName.ForService(new ServiceName("counting"), "dc2", Td), $"counting.default.dc2.internal.{TdName}");
        yield return (ConsulSniName.ForService(new ServiceName("web", "team-a"), "dc1", Td), $"web.team-a.dc1.internal.{TdName}");
        yield return (ConsulSniName.ForService(new ServiceName("web"), "dc1", Td, "v2"), $"v2.web.default.dc1.internal.{TdName}");
        yield return (ConsulSniName.ForService(new ServiceName("web", "ns1", "ap1"), "dc1", Td), $"web.ns1.ap1.dc1.internal-v1.{TdName}");
        yield return (ConsulSniName.ForService(new ServiceName("web", null, "ap1"), "dc1", Td, "canary"), $"canary.web.default.ap1.dc1.internal-v1.{TdName}");
        yield return (ConsulSniName.ForDatacenter("dc2", Td), $"dc2.internal.{TdName}");
        yield return (ConsulSniName.ForDatacenter("dc2", Td, "ap1"), $"ap1.dc2.internal-v1.{TdName}");
        yield return (ConsulSniName.ForDatacenter("dc2", Td, "default"), $"dc2.internal.{TdName}");
        yield return (ConsulSniName.ForPeerExport(new ServiceName("api"), "cluster-02", Td), $"api.default.default.cluster-02.external.{TdName}");
        yield return (ConsulSniName.ForPeerExport(new ServiceName("api", "ns1", "ap1"), "peer_b", Td), $"api.ns1.ap1.peer_b.external.{TdName}");
        yield return (ConsulSniName.ForPreparedQuery("geo-db", "dc3", Td), $"geo-db.default.dc3.query.{TdName}");
        // A service named like a kind label still round-trips: the label count decides.
        yield return (ConsulSniName.ForService(new ServiceName("internal"), "query", Td), $"internal.default.query.internal.{TdName}");
    }

    [Test]
    public void Every_form_is_built_as_consul_builds_it_and_parses_back()
    {
        foreach ((ConsulSniName name, string expected) in EveryForm())
        {
            Assert.That(name.ToString(), Is.EqualTo(expected));

            Assert.That(ConsulSniName.TryParse(expected, Td, out ConsulSniName? parsed), Is.True, expected);
            Assert.That(parsed, Is.EqualTo(name), expected);
            Assert.That(parsed!.Kind, Is.EqualTo(name.Kind));
            Assert.That(parsed.Service, Is.EqualTo(name.Service));
            Assert.That(parsed.Subset, Is.EqualTo(name.Subset));
            Assert.That(parsed.Datacenter, Is.EqualTo(name.Datacenter));
            Assert.That(parsed.Partition, Is.EqualTo(name.Partition));
            Assert.That(parsed.Peer, Is.EqualTo(name.Peer));
            Assert.That(parsed.QueryName, Is.EqualTo(name.QueryName));
            Assert.That(parsed.TrustDomain, Is.EqualTo(Td));

            Assert.That(ConsulSniName.TryParse(expected, out ConsulSniName? withoutTd), Is.True, expected);
            Assert.That(withoutTd, Is.EqualTo(name), expected);

            Assert.That(ConsulSniName.Parse(expected.ToUpperInvariant().Replace(TdName.ToUpperInvariant(), TdName, StringComparison.Ordinal) + ".", Td).Kind,
                Is.EqualTo(name.Kind), "kind labels are case-insensitive and a trailing dot is ignored");
        }
    }

    [Test]
    public void Parsed_fields_name_the_parts()
    {
        ConsulSniName name = ConsulSniName.Parse($"canary.web.team-a.ap1.dc9.internal-v1.{TdName}", Td);
        Assert.That(name.Kind, Is.EqualTo(ConsulSniNameKind.Service));
        Assert.That(name.Subset, Is.EqualTo("canary"));
        Assert.That(name.Service, Is.EqualTo(new ServiceName("web", "team-a", "ap1")));
        Assert.That(name.Datacenter, Is.EqualTo("dc9"));

        ConsulSniName peer = ConsulSniName.Parse($"api.ns1.ap1.peer-b.external.{TdName}", Td);
        Assert.That((peer.Kind, peer.Peer, peer.Datacenter, peer.Partition), Is.EqualTo((ConsulSniNameKind.PeerExport, "peer-b", (string?)null, "ap1")));
    }

    [Test]
    public void Gateway_wildcard_of_a_datacenter()
    {
        Assert.That(ConsulSniName.ForDatacenter("dc2", Td).ToGatewayWildcard(), Is.EqualTo($"*.dc2.internal.{TdName}"));
        Assert.That(ConsulSniName.ForDatacenter("dc2", Td, "ap1").ToGatewayWildcard(), Is.EqualTo($"*.ap1.dc2.internal-v1.{TdName}"));
        Assert.Throws<InvalidOperationException>(() => ConsulSniName.ForPreparedQuery("q", "dc1", Td).ToGatewayWildcard());
    }

    [TestCase("web.default.dc1.internal.other.consul")]
    [TestCase("web.default.dc1.internal")]
    [TestCase("default.dc1.internal.7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("a.b.c.d.e.dc1.internal.7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("web.default.default.dc1.internal-v1.7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("default.dc1.internal-v1.7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("web.default.peer.external.7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("q.ns1.dc1.query.7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("web.default.dc1.public.7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("web..dc1.internal.7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("we b.default.dc1.internal.7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("7f42f496-fbc7-8692-05ed-334aa5340c1e.consul")]
    [TestCase("")]
    public void Names_that_are_not_consul_sni_names_are_refused(string sni)
    {
        Assert.That(ConsulSniName.TryParse(sni, Td, out _), Is.False);
        Assert.Throws<FormatException>(() => ConsulSniName.Parse(sni, Td));
    }

    [Test]
    public void Labels_that_cannot_be_sni_labels_are_refused_when_building()
    {
        Assert.Throws<ArgumentException>(() => ConsulSniName.ForService(new ServiceName("web"), "dc.1", Td));
        Assert.Throws<ArgumentException>(() => ConsulSniName.ForService(new ServiceName("web"), "dc1", Td, "v 2"));
        Assert.Throws<ArgumentException>(() => ConsulSniName.ForPeerExport(new ServiceName("web"), "", Td));
        Assert.Throws<ArgumentException>(() => ConsulSniName.ForDatacenter("dc1", default));
    }

    [Test]
    public void Random_names_round_trip()
    {
        var random = new Random(7);
        string Label() => new([.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => "abcdefghijklmnopqrstuvwxyz0123456789-_"[random.Next(38)])]);
        string? Maybe() => random.Next(3) == 0 ? null : random.Next(2) == 0 ? "default" : Label();
        for (int i = 0; i < 2000; i++)
        {
            var service = new ServiceName(Label(), Maybe(), Maybe());
            ConsulSniName name = (i % 4) switch
            {
                0 => ConsulSniName.ForService(service, Label(), Td, Maybe()),
                1 => ConsulSniName.ForDatacenter(Label(), Td, Maybe()),
                2 => ConsulSniName.ForPeerExport(service, Label(), Td),
                _ => ConsulSniName.ForPreparedQuery(Label(), Label(), Td),
            };

            string text = name.ToString();
            Assert.That(ConsulSniName.Parse(text, Td), Is.EqualTo(name), text);
            Assert.That(ConsulSniName.Parse(text, Td).ToString(), Is.EqualTo(text));
        }
    }
}
