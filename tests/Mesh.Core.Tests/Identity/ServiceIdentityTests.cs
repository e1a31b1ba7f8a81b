using Mesh.Identity;

namespace Mesh.Core.Tests.Identity;

public sealed class ServiceIdentityTests
{
    private static readonly TrustDomain Td = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");

    [Test]
    public void Default_partition_service_id_matches_consul()
    {
        var identity = new ServiceIdentity(new ServiceName("dashboard"), "dc1");
        Assert.That(identity.ToSpiffeId(Td).ToString(),
            Is.EqualTo("spiffe://11111111-2222-3333-4444-555555555555.consul/ns/default/dc/dc1/svc/dashboard"));
    }

    [Test]
    public void Non_default_partition_service_id_puts_the_partition_first()
    {
        var identity = new ServiceIdentity(new ServiceName("web", "team-a", "ap1"), "dc2");
        Assert.That(identity.ToSpiffeId(Td).Path, Is.EqualTo("/ap/ap1/ns/team-a/dc/dc2/svc/web"));
    }

    [TestCase("spiffe://example.consul/ns/default/dc/dc1/svc/web", true)]
    [TestCase("spiffe://example.consul/ap/p1/ns/n/dc/dc1/svc/web", true)]
    [TestCase("spiffe://example.consul/agent/client/dc/dc1/id/node1", false)]
    [TestCase("spiffe://example.consul/gateway/mesh/dc/dc1", false)]
    [TestCase("spiffe://example.consul", false)]
    [TestCase("spiffe://example.consul/ns/default/dc/dc1/svc/web/extra", false)]
    [TestCase("spiffe://example.consul/ns/default/dc/dc1/service/web", false)]
    public void TryFromSpiffeId_recognises_service_ids_only(string id, bool expected)
    {
        bool parsed = ServiceIdentity.TryFromSpiffeId(SpiffeId.Parse(id), out ServiceIdentity identity);
        Assert.That(parsed, Is.EqualTo(expected));
        if (expected)
        {
            Assert.That(identity.ToSpiffeId(TrustDomain.Parse("example.consul")).ToString(), Is.EqualTo(id), "round trip");
        }
    }

    [TestCase("")]
    [TestCase("has.dot")]
    [TestCase("has space")]
    [TestCase("per%cent")]
    [TestCase("caf\u00e9")]
    public void Names_that_cannot_form_a_spiffe_id_or_sni_label_fail_at_configuration(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => _ = new ServiceName(name));
        Assert.That(ex!.Message, Does.Contain("service name"));
    }

    [Test]
    public void Empty_namespace_and_partition_mean_default()
    {
        var name = new ServiceName("web", "", null);
        Assert.Multiple(() =>
        {
            Assert.That(name.Namespace, Is.EqualTo("default"));
            Assert.That(name.Partition, Is.EqualTo("default"));
            Assert.That(name, Is.EqualTo(new ServiceName("web")));
        });
    }
}
