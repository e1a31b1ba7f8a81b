using System.Text.RegularExpressions;
using Mesh.Consul.TestAgent;
using Mesh.ControlPlane;
using Mesh.Diagnostics;
using Mesh.Identity;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed partial class BlockingQueryTests
{
    [Test]
    public async Task After_the_first_read_queries_block_on_the_answered_index_with_a_wait()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var roots = new ConsulTrustBundleSource(client);
        await roots.GetBundleAsync(Timeout());

        await EventuallyAsync(() => agent.Requests.Count(r => r.PathAndQuery.StartsWith("/v1/agent/connect/ca/roots", StringComparison.Ordinal)) >= 2, "a second round");

        RecordedRequest[] rounds = [.. agent.Requests.Where(r => r.PathAndQuery.StartsWith("/v1/agent/connect/ca/roots", StringComparison.Ordinal))];
        Assert.That(rounds[0].PathAndQuery, Does.Not.Contain("index="), "the first read does not block");
        Assert.That(rounds[1].PathAndQuery, Does.Contain($"index={agent.IndexOf("roots")}").And.Contain("wait=2000ms"));
    }

    [Test]
    public async Task An_index_that_goes_backwards_is_reset_to_zero_and_changes_are_still_seen()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        ConsulOptions options = FastOptions(agent);
        options.WaitTime = TimeSpan.FromMilliseconds(300);
        var log = new CapturedLog();
        using var client = new ConsulAgentClient(options, log);
        await using var catalog = new ConsulServiceCatalog(client);
        catalog.WatchService(new ServiceName("web"));
        await catalog.WaitForFirstAnswersAsync(Timeout());

        agent.MoveIndexBackwards();
        int before = agent.Requests.Count;
        await EventuallyAsync(() => log.Count(MeshLogEvents.ConsulIndexReset) > 0, "the index reset is logged");
        await EventuallyAsync(() => agent.Requests.Skip(before).Any(r => r.PathAndQuery.StartsWith("/v1/health/connect/web", StringComparison.Ordinal) && !r.PathAndQuery.Contains("index=", StringComparison.Ordinal)), "a plain read after the reset");

        agent.Register(Sidecar("web-sidecar-proxy", "web", 21000));
        await EventuallyAsync(() => catalog.GetHealthyEndpoints(new ServiceName("web"), "dc1").Count == 1, "the endpoint registered after the reset");
    }

    [Test]
    public async Task An_index_of_zero_is_never_blocked_on()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.ZeroIndex = true;
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var roots = new ConsulTrustBundleSource(client);
        await roots.GetBundleAsync(Timeout());

        await EventuallyAsync(() => agent.Requests.Count(r => r.PathAndQuery.Contains("index=", StringComparison.Ordinal)) >= 2, "blocking rounds");

        Assert.That(agent.Requests.Where(r => r.PathAndQuery.Contains("index=", StringComparison.Ordinal)).Select(r => IndexParameter().Match(r.PathAndQuery).Groups[1].Value), Is.All.EqualTo("1"));
    }

    [Test]
    public async Task Through_an_agent_outage_every_source_keeps_its_last_value_and_logs_once()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(Sidecar("web-sidecar-proxy", "web", 21000));
        agent.SetIntentions([new TestIntention("web", "api", "allow")]);
        var log = new CapturedLog();
        using var client = new ConsulAgentClient(FastOptions(agent), log);
        await using var leaves = new ConsulLeafSource(client, "api");
        await using var roots = new ConsulTrustBundleSource(client);
        await using var catalog = new ConsulServiceCatalog(client);
        await using var intentions = new ConsulIntentionSource(client, [new ServiceName("api")]);
        catalog.WatchService(new ServiceName("web"));
        LeafCertificate leaf = await leaves.GetLeafAsync(Timeout());
        TrustBundle bundle = await roots.GetBundleAsync(Timeout());
        await catalog.WaitForFirstAnswersAsync(Timeout());
        await intentions.GetIntentionsAsync(Timeout());

        await agent.StopAsync();
        int requestsWhenStopped = agent.Requests.Count;
        using var metrics = new RoundCounter();
        await EventuallyAsync(() => metrics.Count("unreachable") >= 12, "several failed rounds per source");

        Assert.Multiple(() =>
        {
            Assert.That(leaves.Current, Is.SameAs(leaf));
            Assert.That(roots.Current, Is.SameAs(bundle));
            Assert.That(catalog.GetHealthyEndpoints(new ServiceName("web"), "dc1"), Has.Count.EqualTo(1));
            Assert.That(intentions.Current.Decide(new ServiceName("web"), new ServiceName("api")).IsAllowed, Is.True);
            Assert.That(log.Count(MeshLogEvents.ConsulAgentUnreachable), Is.EqualTo(4), "one line per source, not per retry");
        });

        await agent.StartAsync();
        agent.SetIntentions([new TestIntention("web", "api", "deny")]);
        await EventuallyAsync(() => !intentions.Current.Decide(new ServiceName("web"), new ServiceName("api")).IsAllowed, "a change after the agent is back");
        await EventuallyAsync(() => log.Count(MeshLogEvents.ConsulRecovered) == 4, "each source logs its recovery");
        Assert.That(log.Count(MeshLogEvents.ConsulAgentUnreachable), Is.EqualTo(4));
        Assert.That(agent.Requests.Count, Is.GreaterThan(requestsWhenStopped));
    }

    [Test]
    public async Task A_server_error_keeps_the_last_value_and_is_logged_once()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        ConsulOptions options = FastOptions(agent);
        options.WaitTime = TimeSpan.FromMilliseconds(200);
        var log = new CapturedLog();
        using var client = new ConsulAgentClient(options, log);
        await using var roots = new ConsulTrustBundleSource(client);
        TrustBundle bundle = await roots.GetBundleAsync(Timeout());
        using var metrics = new RoundCounter();

        agent.FailWithStatus = 500;
        await EventuallyAsync(() => metrics.Count("server_error") >= 3, "several failed rounds");

        Assert.That(roots.Current, Is.SameAs(bundle));
        Assert.That(log.Count(MeshLogEvents.ConsulAgentServerError), Is.EqualTo(1));
        Assert.That(log.Lines.Single(l => l.EventId == MeshLogEvents.ConsulAgentServerError).Message, Does.Contain("500").And.Contain("No cluster leader"));

        agent.FailWithStatus = null;
        agent.RotateRoot();
        await EventuallyAsync(() => roots.Current != bundle, "the rotated roots once the agent serves again");
    }

    [Test]
    public async Task A_slow_agent_times_out_and_keeps_the_last_value()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        ConsulOptions options = FastOptions(agent);
        options.WaitTime = TimeSpan.FromMilliseconds(200);
        options.RequestTimeout = TimeSpan.FromMilliseconds(300);
        var log = new CapturedLog();
        using var client = new ConsulAgentClient(options, log);
        await using var roots = new ConsulTrustBundleSource(client);
        TrustBundle bundle = await roots.GetBundleAsync(Timeout());

        agent.ResponseDelay = TimeSpan.FromSeconds(5);
        await EventuallyAsync(() => log.Count(MeshLogEvents.ConsulAgentTimedOut) == 1, "the time-out is logged");

        Assert.That(roots.Current, Is.SameAs(bundle));
    }

    [Test]
    public async Task An_unreadable_answer_keeps_the_last_value_and_is_logged_once()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.Register(Sidecar("web-sidecar-proxy", "web", 21000));
        ConsulOptions options = FastOptions(agent);
        options.WaitTime = TimeSpan.FromMilliseconds(200);
        var log = new CapturedLog();
        using var client = new ConsulAgentClient(options, log);
        await using var catalog = new ConsulServiceCatalog(client);
        await using var leaves = new ConsulLeafSource(client, "web");
        catalog.WatchService(new ServiceName("web"));
        await catalog.WaitForFirstAnswersAsync(Timeout());
        LeafCertificate leaf = await leaves.GetLeafAsync(Timeout());
        using var metrics = new RoundCounter();

        agent.GarbleAnswers = true;
        await EventuallyAsync(() => metrics.Count("invalid_response") >= 6, "several unreadable rounds");

        Assert.That(catalog.GetHealthyEndpoints(new ServiceName("web"), "dc1"), Has.Count.EqualTo(1));
        Assert.That(leaves.Current, Is.SameAs(leaf));
        Assert.That(log.Count(MeshLogEvents.ConsulInvalidResponse), Is.EqualTo(2), "once per query, not per round");
    }

    internal static TestService Sidecar(string id, string destination, int port, string? datacenter = null) =>
        new(id, destination + "-sidecar-proxy", port)
        {
            Kind = "connect-proxy",
            Datacenter = datacenter,
            Proxy = new TestProxy(destination, 8080) { DestinationServiceId = destination },
        };

    [GeneratedRegex("index=([0-9]+)")]
    private static partial Regex IndexParameter();
}
