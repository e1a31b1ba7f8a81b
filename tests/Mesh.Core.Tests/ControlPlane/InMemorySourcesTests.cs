using System.Net;
using Mesh.ControlPlane;
using Mesh.Identity;

namespace Mesh.Core.Tests.ControlPlane;

public sealed class InMemorySourcesTests
{
    private static readonly ServiceName Counting = new("counting");

    [Test]
    public void Catalog_returns_endpoints_per_service_and_datacenter()
    {
        var dc1 = new ServiceEndpoint(new ServiceIdentity(Counting, "dc1"), new IPEndPoint(IPAddress.Loopback, 21000));
        var dc2 = new ServiceEndpoint(new ServiceIdentity(Counting, "dc2"), new IPEndPoint(IPAddress.Loopback, 22000));
        var gateway = new MeshGatewayEndpoint("dc2", new IPEndPoint(IPAddress.Loopback, 8443), new IPEndPoint(IPAddress.Loopback, 9443));
        var catalog = new InMemoryServiceCatalog([dc1, dc2], [gateway]);

        Assert.Multiple(() =>
        {
            Assert.That(catalog.GetHealthyEndpoints(Counting, "dc1"), Is.EqualTo(new[] { dc1 }));
            Assert.That(catalog.GetHealthyEndpoints(Counting, "dc2"), Is.EqualTo(new[] { dc2 }));
            Assert.That(catalog.GetHealthyEndpoints(new ServiceName("other"), "dc1"), Is.Empty);
            Assert.That(catalog.GetMeshGateways("dc2"), Is.EqualTo(new[] { gateway }));
            Assert.That(catalog.GetMeshGateways("dc1"), Is.Empty);
            Assert.That(catalog.GetDatacenters(), Is.EqualTo(new[] { "dc1", "dc2" }));
            Assert.That(catalog.GetServices("dc2"), Is.EqualTo(new[] { Counting }));
            Assert.That(catalog.GetServices("dc3"), Is.Empty);
        });
    }

    [Test]
    public void Catalog_change_fires_the_token_handed_out_before_it()
    {
        var catalog = new InMemoryServiceCatalog();
        var token = catalog.GetChangeToken();
        int callbacks = 0;
        using var registration = token.RegisterChangeCallback(_ => callbacks++, null);
        Assert.That(token.HasChanged, Is.False);

        catalog.Replace([new ServiceEndpoint(new ServiceIdentity(Counting, "dc1"), new IPEndPoint(IPAddress.Loopback, 1))], []);

        Assert.Multiple(() =>
        {
            Assert.That(token.HasChanged, Is.True);
            Assert.That(callbacks, Is.EqualTo(1));
            Assert.That(catalog.GetChangeToken().HasChanged, Is.False, "a fresh token waits for the next change");
        });
    }

    [Test]
    public async Task Trust_bundle_source_waits_for_the_first_bundle()
    {
        var source = new InMemoryTrustBundleSource();
        ValueTask<TrustBundle> pending = source.GetBundleAsync(CancellationToken.None);
        Assert.That(pending.IsCompleted, Is.False);

        var bundle = new TrustBundle(1, new Dictionary<TrustDomain, IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2>>
        {
            [TrustDomain.Parse("example.consul")] = [],
        });
        source.Set(bundle);

        Assert.That(await pending, Is.SameAs(bundle));
        Assert.That(bundle.TryGetRoots(TrustDomain.Parse("example.consul"), out _), Is.True);
        Assert.That(bundle.TryGetRoots(TrustDomain.Parse("other.consul"), out _), Is.False);
    }

    [Test]
    public void Waiting_for_a_leaf_honours_cancellation()
    {
        var source = new InMemoryLeafSource();
        using var cts = new CancellationTokenSource();
        ValueTask<LeafCertificate> pending = source.GetLeafAsync(cts.Token);
        cts.Cancel();
        Assert.ThrowsAsync<TaskCanceledException>(async () => await pending);
    }
}
