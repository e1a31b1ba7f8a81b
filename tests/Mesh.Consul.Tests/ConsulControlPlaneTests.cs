using Mesh.Consul.TestAgent;
using Mesh.Identity;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed class ConsulControlPlaneTests
{
    [Test]
    public async Task Ready_means_the_first_leaf_and_roots_are_in()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        await using var controlPlane = new ConsulControlPlane(FastOptions(agent));

        await controlPlane.WaitUntilReadyAsync("web", Timeout());

        Assert.That(controlPlane.GetLeafSource("web").Current!.Id.ToString(), Does.EndWith("/svc/web"));
        Assert.That(controlPlane.TrustBundle.Current.TryGetRoots(agent.TrustDomain, out _), Is.True);
        ConsulLeafSource again = controlPlane.GetLeafSource("web");
        Assert.That(again.Current, Is.Not.Null, "the same source, already holding the leaf");
    }

    [Test]
    public async Task Ready_fails_with_the_missing_permission()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Forbid("/v1/agent/connect/ca/leaf/web");
        await using var controlPlane = new ConsulControlPlane(FastOptions(agent));

        var exception = Assert.ThrowsAsync<ConsulPermissionDeniedException>(async () => await controlPlane.WaitUntilReadyAsync("web", Timeout()));

        Assert.That(exception!.RequiredPermission, Does.Contain("service:write"));
    }

    [Test]
    public async Task The_agent_is_reached_over_a_unix_socket()
    {
        string socket = Path.Combine(Path.GetTempPath(), $"consul-{Guid.NewGuid():N}.sock");
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync(unixSocketPath: socket);
        ConsulOptions options = FastOptions(agent);
        options.Address = "unix://" + socket;
        await using var controlPlane = new ConsulControlPlane(options);

        await controlPlane.WaitUntilReadyAsync("web", Timeout());

        Assert.That(controlPlane.Client.AgentAddress, Is.EqualTo("unix://" + socket));
        Assert.That(agent.Requests, Is.Not.Empty);
        controlPlane.Intentions.Watch(new ServiceName("web"));
        await controlPlane.Intentions.GetIntentionsAsync(Timeout());
    }
}
