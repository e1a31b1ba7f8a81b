using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Core.Tests.Identity;

/// <summary>Client agents in a partition, and partitions as Consul treats them: lower-case when written, equal regardless of case.</summary>
public sealed class PartitionIdentityTests
{
    private static readonly TrustDomain Td = TrustDomain.Parse("example.consul");

    [Test]
    public void A_client_agent_id_in_a_partition_parses_and_renders()
    {
        SpiffeId id = SpiffeId.Parse("spiffe://example.consul/ap/part1/agent/client/dc/dc1/id/node-1");
        Assert.That(MeshIdentity.TryParse(id, out MeshIdentity identity), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(identity.Kind, Is.EqualTo(MeshIdentityKind.ClientAgent));
            Assert.That(identity.Partition, Is.EqualTo("part1"));
            Assert.That(identity.Datacenter, Is.EqualTo("dc1"));
            Assert.That(identity.Name, Is.EqualTo("node-1"));
            Assert.That(identity.ToSpiffeId(), Is.EqualTo(id));
            Assert.That(MeshIdentity.ForClientAgent(Td, "dc1", "node-1", "part1"), Is.EqualTo(identity));
        });
    }

    [Test]
    public void An_unpartitioned_client_agent_is_in_the_default_partition()
    {
        Assert.That(MeshIdentity.TryParse(SpiffeId.Parse("spiffe://example.consul/agent/client/dc/dc1/id/node-1"), out MeshIdentity identity), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(identity.Partition, Is.EqualTo("default"));
            Assert.That(identity, Is.EqualTo(MeshIdentity.ForClientAgent(Td, "dc1", "node-1", "default")));
            Assert.That(MeshIdentity.ForClientAgent(Td, "dc1", "node-1", "default").ToString(), Is.EqualTo("spiffe://example.consul/agent/client/dc/dc1/id/node-1"));
            Assert.That(MeshIdentity.ForClientAgent(Td, "dc1", "node-1").Partition, Is.EqualTo("default"));
        });
    }

    [TestCase("spiffe://example.consul/ap/default/agent/client/dc/dc1/id/node-1")]
    [TestCase("spiffe://example.consul/ap/DEFAULT/agent/client/dc/dc1/id/node-1")]
    [TestCase("spiffe://example.consul/ap/p.1/agent/client/dc/dc1/id/node-1")]
    [TestCase("spiffe://example.consul/ap/p1/agent/client/dc/dc1/id")]
    [TestCase("spiffe://example.consul/ap/p1/agent/server/dc/dc1")]
    public void Malformed_partitioned_agent_ids_are_not_identities(string text) =>
        Assert.That(MeshIdentity.TryParse(SpiffeId.Parse(text), out _), Is.False);

    [Test]
    public void Partitions_render_lower_case_and_compare_case_insensitively()
    {
        var upper = new ServiceName("web", "ns", "Part1");
        var lower = new ServiceName("web", "ns", "part1");
        Assert.That(MeshIdentity.TryParse(SpiffeId.Parse("spiffe://example.consul/ap/PART1/ns/ns/dc/dc1/svc/web"), out MeshIdentity parsed), Is.True);
        Assert.That(MeshIdentity.TryParse(SpiffeId.Parse("spiffe://example.consul/ap/Part1/agent/client/dc/dc1/id/n1"), out MeshIdentity agent), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(upper, Is.EqualTo(lower));
            Assert.That(upper.GetHashCode(), Is.EqualTo(lower.GetHashCode()));
            Assert.That(upper.Partition, Is.EqualTo("part1"));
            Assert.That(new ServiceIdentity(upper, "dc1").ToSpiffeId(Td).ToString(), Is.EqualTo("spiffe://example.consul/ap/part1/ns/ns/dc/dc1/svc/web"));
            Assert.That(parsed.Partition, Is.EqualTo("part1"));
            Assert.That(parsed.ToString(), Is.EqualTo("spiffe://example.consul/ap/part1/ns/ns/dc/dc1/svc/web"));
            Assert.That(parsed, Is.EqualTo(MeshIdentity.ForService(Td, new ServiceIdentity(lower, "dc1"))));
            Assert.That(agent.ToString(), Is.EqualTo("spiffe://example.consul/ap/part1/agent/client/dc/dc1/id/n1"));
            Assert.That(MeshIdentity.ForMeshGateway(Td, "dc1", "PART1").ToString(), Is.EqualTo("spiffe://example.consul/ap/part1/gateway/mesh/dc/dc1"));
            Assert.That(MeshIdentity.ForClientAgent(Td, "dc1", "n1", "PART1"), Is.EqualTo(agent));
            Assert.That(new ServiceName("web", null, "DEFAULT").IsDefaultPartition, Is.True);
        });
    }

    [Test]
    public void An_intention_in_a_partition_matches_whatever_the_case()
    {
        var set = new IntentionSet(
            [new Intention(new IntentionSource("web", null, "Part1"), new IntentionDestination("api", null, "PART2"), IntentionAction.Allow)],
            IntentionAction.Deny);
        Assert.That(set.Decide(new ServiceName("web", null, "part1"), new ServiceName("api", null, "part2")).IsAllowed, Is.True);
    }

    [Test]
    public void The_control_plane_file_keeps_partitions_in_lower_case()
    {
        string json = Mesh.Core.Tests.ControlPlane.ControlPlaneFileTests.TwoDatacenters
            .Replace("\"LanAddress\": \"127.0.1.10:8443\"", "\"LanAddress\": \"127.0.1.10:8443\", \"Partition\": \"Part1\"", StringComparison.Ordinal)
            .Replace("\"ID\": \"counting-1\", \"Name\": \"counting\"", "\"ID\": \"counting-1\", \"Name\": \"counting\", \"Partition\": \"PART1\"", StringComparison.Ordinal);
        var config = Mesh.ControlPlane.File.ControlPlaneConfiguration.Parse(System.Text.Encoding.UTF8.GetBytes(json), "file.json");
        Assert.Multiple(() =>
        {
            Assert.That(config.MeshGateways.Select(g => g.Partition), Does.Contain("part1"));
            Assert.That(config.FindService("counting-1")!.Identity.Service, Is.EqualTo(new ServiceName("counting", null, "part1")));
        });
    }
}
