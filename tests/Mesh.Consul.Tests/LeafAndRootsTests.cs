using System.Security.Cryptography.X509Certificates;
using Mesh.Consul.TestAgent;
using Mesh.ControlPlane;
using Microsoft.Extensions.Primitives;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed class LeafAndRootsTests
{
    [Test]
    public async Task Leaf_carries_the_agent_generated_key_and_chains_to_the_roots()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var leaves = new ConsulLeafSource(client, "web");
        await using var roots = new ConsulTrustBundleSource(client);

        LeafCertificate leaf = await leaves.GetLeafAsync(Timeout());
        TrustBundle bundle = await roots.GetBundleAsync(Timeout());

        Assert.That(leaf.Certificate.HasPrivateKey, Is.True);
        Assert.That(leaf.Id.ToString(), Is.EqualTo($"spiffe://{agent.TrustDomain.Name}/ns/default/dc/dc1/svc/web"));
        Assert.That(bundle.TryGetRoots(agent.TrustDomain, out IReadOnlyList<X509Certificate2> anchors), Is.True);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(anchors.ToArray());
        chain.ChainPolicy.ExtraStore.AddRange(leaf.Intermediates.ToArray());
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.That(chain.Build(leaf.Certificate), Is.True, string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
    }

    [Test]
    public async Task Leaf_renewed_by_the_agent_replaces_the_current_one()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var leaves = new ConsulLeafSource(client, "web");
        LeafCertificate first = await leaves.GetLeafAsync(Timeout());
        IChangeToken changed = leaves.GetChangeToken();

        agent.RotateLeaf("web");

        await EventuallyAsync(() => changed.HasChanged, "the leaf's change token fires");
        Assert.That(leaves.Current!.Certificate.SerialNumber, Is.Not.EqualTo(first.Certificate.SerialNumber));
    }

    [Test]
    public async Task Root_rotation_trusts_both_roots_and_renews_the_leaf()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var leaves = new ConsulLeafSource(client, "web");
        await using var roots = new ConsulTrustBundleSource(client);
        LeafCertificate first = await leaves.GetLeafAsync(Timeout());
        await roots.GetBundleAsync(Timeout());

        agent.RotateRoot();

        await EventuallyAsync(() => roots.Current.TryGetRoots(agent.TrustDomain, out IReadOnlyList<X509Certificate2> r) && r.Count == 2, "both roots are trusted");
        await EventuallyAsync(() => leaves.Current!.Certificate.SerialNumber != first.Certificate.SerialNumber, "the leaf is renewed under the new root");
    }

    [Test]
    public async Task An_answer_that_did_not_change_raises_no_change()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        ConsulOptions options = FastOptions(agent);
        options.WaitTime = TimeSpan.FromMilliseconds(100);
        using var client = new ConsulAgentClient(options);
        await using var roots = new ConsulTrustBundleSource(client);
        TrustBundle first = await roots.GetBundleAsync(Timeout());
        IChangeToken changed = roots.GetChangeToken();

        // Each blocking round ends at the wait with the same roots: a return is not a change.
        await EventuallyAsync(() => agent.Requests.Count(r => r.PathAndQuery.Contains("index=", StringComparison.Ordinal)) >= 3, "three blocking rounds");

        Assert.That(changed.HasChanged, Is.False);
        Assert.That(roots.Current, Is.SameAs(first));
    }
}
