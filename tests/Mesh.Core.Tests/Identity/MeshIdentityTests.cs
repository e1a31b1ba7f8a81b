using Mesh.Identity;

namespace Mesh.Core.Tests.Identity;

public sealed class MeshIdentityTests
{
    private static readonly TrustDomain Td = TrustDomain.Parse("example.consul");

    [TestCase("spiffe://example.consul/ns/default/dc/dc1/svc/web", MeshIdentityKind.Service)]
    [TestCase("spiffe://example.consul/ap/part1/ns/team/dc/dc1/svc/web", MeshIdentityKind.Service)]
    [TestCase("spiffe://example.consul/agent/client/dc/dc1/id/node-1.example", MeshIdentityKind.ClientAgent)]
    [TestCase("spiffe://example.consul/agent/server/dc/dc1", MeshIdentityKind.ServerAgent)]
    [TestCase("spiffe://example.consul/gateway/mesh/dc/dc2", MeshIdentityKind.MeshGateway)]
    [TestCase("spiffe://example.consul/ap/part1/gateway/mesh/dc/dc2", MeshIdentityKind.MeshGateway)]
    [TestCase("spiffe://example.consul", MeshIdentityKind.Signing)]
    public void Consul_ids_parse_to_their_kind_and_format_back_byte_for_byte(string text, MeshIdentityKind kind)
    {
        SpiffeId id = SpiffeId.Parse(text);
        Assert.That(MeshIdentity.TryParse(id, out MeshIdentity identity), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(identity.Kind, Is.EqualTo(kind));
            Assert.That(identity.TrustDomain, Is.EqualTo(Td));
            Assert.That(identity.ToSpiffeId(), Is.EqualTo(id));
        });
    }

    [TestCase("spiffe://example.consul/agent/client/dc/dc1")]
    [TestCase("spiffe://example.consul/agent/server/dc/dc1/id/x")]
    [TestCase("spiffe://example.consul/agent/other/dc/dc1")]
    [TestCase("spiffe://example.consul/gateway/terminating/dc/dc1")]
    [TestCase("spiffe://example.consul/gateway/mesh/dc")]
    [TestCase("spiffe://example.consul/ap/default/gateway/mesh/dc/dc1")]
    [TestCase("spiffe://example.consul/ap/default/ns/default/dc/dc1/svc/web")]
    [TestCase("spiffe://example.consul/ap/p/agent/server/dc/dc1")]
    [TestCase("spiffe://example.consul/gateway/mesh/dc/has.dot")]
    [TestCase("spiffe://example.consul/workload")]
    [TestCase("spiffe://example.consul/a/b/c/d/e/f/g/h/i/j/k/l")]
    public void Other_paths_are_not_mesh_identities(string text) =>
        Assert.That(MeshIdentity.TryParse(SpiffeId.Parse(text), out _), Is.False);

    [Test]
    public void Factories_format_as_consul_does()
    {
        Assert.Multiple(() =>
        {
            Assert.That(MeshIdentity.ForServerAgent(Td, "dc1").ToString(), Is.EqualTo("spiffe://example.consul/agent/server/dc/dc1"));
            Assert.That(MeshIdentity.ForClientAgent(Td, "dc1", "node1").ToString(), Is.EqualTo("spiffe://example.consul/agent/client/dc/dc1/id/node1"));
            Assert.That(MeshIdentity.ForMeshGateway(Td, "dc1").ToString(), Is.EqualTo("spiffe://example.consul/gateway/mesh/dc/dc1"));
            Assert.That(MeshIdentity.ForMeshGateway(Td, "dc1", "p1").ToString(), Is.EqualTo("spiffe://example.consul/ap/p1/gateway/mesh/dc/dc1"));
            Assert.That(MeshIdentity.ForSigning(Td).ToString(), Is.EqualTo("spiffe://example.consul"));
            Assert.That(MeshIdentity.ForService(Td, new ServiceIdentity(new ServiceName("web"), "dc3")).ToString(),
                Is.EqualTo("spiffe://example.consul/ns/default/dc/dc3/svc/web"));
        });
    }

    [Test]
    public void Names_that_cannot_form_a_spiffe_id_are_refused_at_configuration()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<ArgumentException>(() => MeshIdentity.ForClientAgent(Td, "dc1", "node%201"))!.Message, Does.Contain("agent ID"));
            Assert.That(Assert.Throws<ArgumentException>(() => MeshIdentity.ForClientAgent(Td, "dc1", ".."))!.Message, Does.Contain("agent ID"));
            Assert.That(Assert.Throws<ArgumentException>(() => MeshIdentity.ForServerAgent(Td, "dc/1"))!.Message, Does.Contain("datacenter"));
            Assert.That(Assert.Throws<ArgumentException>(() => MeshIdentity.ForMeshGateway(Td, "dc1", "p q"))!.Message, Does.Contain("partition"));
            Assert.Throws<ArgumentException>(() => MeshIdentity.ForSigning(default));
        });
    }

    [Test]
    public void Service_kind_converts_to_a_service_identity()
    {
        Assert.That(MeshIdentity.TryParse(SpiffeId.Parse("spiffe://example.consul/ap/p/ns/n/dc/d/svc/s"), out MeshIdentity identity), Is.True);
        Assert.That(identity.TryGetService(out ServiceIdentity service), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(service.Service, Is.EqualTo(new ServiceName("s", "n", "p")));
            Assert.That(service.Datacenter, Is.EqualTo("d"));
            Assert.That(MeshIdentity.ForServerAgent(Td, "dc1").TryGetService(out _), Is.False);
        });
    }
}
