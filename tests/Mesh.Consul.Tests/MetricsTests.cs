using Mesh.Consul.TestAgent;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed class MetricsTests
{
    [Test]
    public async Task Each_cached_value_reports_its_age_and_grows_through_an_outage()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var leaves = new ConsulLeafSource(client, "web");
        await leaves.GetLeafAsync(Timeout());
        using var metrics = new RoundCounter();
        Assert.That(metrics.ReadAges(), Does.ContainKey("leaf web"));

        await agent.StopAsync();
        double before = metrics.ReadAges()["leaf web"];
        await EventuallyAsync(() => metrics.ReadAges()["leaf web"] > before, "the age grows while the agent is away");
        await EventuallyAsync(() => metrics.Count("unreachable") > 0, "failed rounds are counted as unreachable");
    }
}
