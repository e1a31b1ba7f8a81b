using Mesh.ControlPlane;
using Mesh.Identity;
using Microsoft.Extensions.Primitives;

namespace Mesh.Sni.Tests.Gateway;

public sealed partial class MeshGatewayTests
{
    // A control-plane source answers on its own threads: a catalog change can land while the gateway is building its first
    // routes. A gateway that subscribes only after that build never hears of the change and refuses the service until the
    // catalog happens to change again (with Consul, possibly never).
    [Test]
    public async Task A_catalog_change_made_while_the_first_routes_are_built_reaches_the_routes()
    {
        await using var backend = await TlsEchoServer.StartAsync();
        var catalog = new ChangingWhileReadCatalog([Endpoint(Counting, "dc2", backend.EndPoint)]);
        await using Mesh.Sni.Gateway.MeshGateway gateway = await StartGateway("dc2", catalog);
        string sni = "counting.default.dc2.internal." + Td.Name;

        Assert.That(catalog.Changed, Is.True, "the change landed during the first build");
        Assert.That(await EventuallyReachesAsync(gateway.LocalEndPoints[0], sni), Is.EqualTo("echo:y"));
    }

    private static async Task<string> EventuallyReachesAsync(System.Net.IPEndPoint gateway, string sni)
    {
        // The rebuild a change starts runs on the notifying thread, right after it: a few tries cover the hand-over.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await TlsCallAsync(gateway, sni, "y");
            }
            catch (Exception) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Empty until the first time the catalog's services are read; that read publishes the endpoints.</summary>
    private sealed class ChangingWhileReadCatalog(IEnumerable<ServiceEndpoint> later) : IServiceCatalog
    {
        private readonly InMemoryServiceCatalog _inner = new();
        private int _reads;

        public bool Changed => Volatile.Read(ref _reads) > 0;

        public IReadOnlyList<ServiceName> GetServices(string datacenter)
        {
            IReadOnlyList<ServiceName> now = _inner.GetServices(datacenter);
            if (Interlocked.Increment(ref _reads) == 1)
            {
                // The answer of this read is already the old one; the new state is published before the read returns.
                _inner.Replace(later, []);
            }

            return now;
        }

        public IReadOnlyList<ServiceEndpoint> GetHealthyEndpoints(ServiceName service, string datacenter) => _inner.GetHealthyEndpoints(service, datacenter);

        public IReadOnlyList<MeshGatewayEndpoint> GetMeshGateways(string datacenter) => _inner.GetMeshGateways(datacenter);

        public IReadOnlyList<string> GetDatacenters() => _inner.GetDatacenters();

        public IChangeToken GetChangeToken() => _inner.GetChangeToken();
    }
}
