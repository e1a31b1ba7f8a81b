using Mesh.Consul.TestAgent;
using Mesh.Diagnostics;
using Mesh.Identity;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed class AclTests
{
    private const string Secret = "3f1c9a7e-6b2d-4c58-9e0a-secret-token";

    [Test]
    public async Task A_403_on_the_leaf_is_a_permanent_error_naming_service_write()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Forbid("/v1/agent/connect/ca/leaf/");
        var log = new CapturedLog();
        using var client = new ConsulAgentClient(FastOptions(agent), log);
        await using var leaves = new ConsulLeafSource(client, "web");

        var exception = Assert.ThrowsAsync<ConsulPermissionDeniedException>(async () => await leaves.GetLeafAsync(Timeout()));

        Assert.That(exception!.Message, Does.Contain("service:write on \"web\"").And.Contain("403"));
        Assert.That(exception.RequiredPermission, Is.EqualTo("service:write on \"web\""));
        Assert.That(log.Count(MeshLogEvents.ConsulPermissionDenied), Is.EqualTo(1));
        int requests = agent.Requests.Count;
        await Task.Delay(300);
        Assert.That(agent.Requests, Has.Count.EqualTo(requests), "a permanent error is not retried");
    }

    [Test]
    public async Task A_403_on_intentions_names_intentions_read()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Forbid("/v1/connect/intentions/match");
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var intentions = new ConsulIntentionSource(client, [new ServiceName("api")]);

        var exception = Assert.ThrowsAsync<ConsulPermissionDeniedException>(async () => await intentions.GetIntentionsAsync(Timeout()));

        Assert.That(exception!.Message, Does.Contain("intentions:read on \"api\""));
        Assert.That(intentions.Faults, Has.Count.EqualTo(1));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task The_token_travels_only_in_the_header_never_in_a_URL_or_a_log_line(bool fromFile)
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.RequiredToken = Secret;
        agent.Register(BlockingQueryTests.Sidecar("web-sidecar-proxy", "web", 21000));
        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, Secret + "\n");
        try
        {
            ConsulOptions options = FastOptions(agent);
            options.Token = fromFile ? null : Secret;
            options.TokenFile = fromFile ? file : null;
            var log = new CapturedLog();
            using var client = new ConsulAgentClient(options, log);
            await using var leaves = new ConsulLeafSource(client, "web");
            await using var intentions = new ConsulIntentionSource(client, [new ServiceName("web")]);
            await using var proxy = new ConsulProxyConfigurationSource(client, "web-sidecar-proxy");
            await leaves.GetLeafAsync(Timeout());
            await intentions.GetIntentionsAsync(Timeout());
            await proxy.GetConfigurationAsync(Timeout());

            // An outage and an error also produce log lines; none of them may carry the token.
            agent.FailWithStatus = 500;
            agent.RotateLeaf("web");
            await EventuallyAsync(() => log.Count(MeshLogEvents.ConsulAgentServerError) > 0, "an error is logged");

            Assert.That(agent.Requests.Select(r => r.Token), Is.All.EqualTo(Secret));
            Assert.That(agent.Requests.Select(r => r.PathAndQuery), Has.None.Contains(Secret).And.None.Contains("token="));
            Assert.That(log.Lines.Select(l => l.Message + l.Exception), Has.None.Contains(Secret));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task A_wrong_token_is_a_permanent_error()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.RequiredToken = Secret;
        ConsulOptions options = FastOptions(agent);
        options.Token = "not-the-token";
        using var client = new ConsulAgentClient(options);
        await using var leaves = new ConsulLeafSource(client, "web");

        var exception = Assert.ThrowsAsync<ConsulPermissionDeniedException>(async () => await leaves.GetLeafAsync(Timeout()));

        Assert.That(exception!.Message, Does.Contain("ACL not found").And.Not.Contain("not-the-token"));
    }
}
