using Mesh.Consul.TestAgent;
using Mesh.Identity;
using Mesh.Intentions;
using Microsoft.Extensions.Primitives;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed class IntentionTests
{
    private static readonly ServiceName Api = new("api");

    /// <summary>
    /// Intentions, agent defaults, and (source, expected authorize answer) pairs for destination <c>api</c>, as Consul decides them.
    /// </summary>
    private static IEnumerable<TestCaseData> Cases()
    {
        static TestCaseData Case(string name, TestIntention[] intentions, string? defaultPolicy, bool acls, string aclDefault, params (string Source, bool Allowed)[] expected) =>
            new TestCaseData(intentions, defaultPolicy, acls, aclDefault, expected).SetName(name);

        yield return Case("No intentions, ACLs off: allow", [], null, false, "deny", ("web", true));
        yield return Case("No intentions, default_intention_policy deny", [], "deny", false, "allow", ("web", false));
        yield return Case("No intentions, ACL default deny", [], null, true, "deny", ("web", false));
        yield return Case("No intentions, ACL default allow", [], null, true, "allow", ("web", true));
        yield return Case("default_intention_policy wins over the ACL default", [], "allow", true, "deny", ("web", true));
        yield return Case("Exact allow over wildcard deny", [new("web", "api", "allow"), new("*", "api", "deny")], null, false, "deny", ("web", true), ("db", false));
        yield return Case("Exact deny over wildcard allow", [new("*", "api", "allow"), new("web", "api", "deny")], null, false, "deny", ("web", false), ("db", true));
        yield return Case("Source-wildcard destination-exact over source-exact destination-wildcard", [new("web", "*", "allow"), new("*", "api", "deny")], null, false, "deny", ("web", false));
        yield return Case("Destination wildcard applies with default deny", [new("web", "*", "allow")], "deny", false, "deny", ("web", true), ("db", false));
        yield return Case("L7 intention denies at L4", [new("web", "api", null) { L7 = true }], "allow", false, "deny", ("web", false), ("db", true));
        yield return Case("Wildcard-to-wildcard deny with an exact allow", [new("*", "*", "deny"), new("web", "api", "allow")], "allow", false, "deny", ("web", true), ("db", false));
        yield return Case("Intention for another destination does not apply", [new("web", "db", "deny")], null, false, "deny", ("web", true));
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Decisions_equal_the_agents_authorize_answers(TestIntention[] intentions, string? defaultPolicy, bool acls, string aclDefault, (string Source, bool Allowed)[] expected)
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.SetIntentions(intentions);
        agent.DefaultIntentionPolicy = defaultPolicy;
        agent.AclsEnabled = acls;
        agent.AclDefaultPolicy = aclDefault;
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var source = new ConsulIntentionSource(client, [Api]);

        IntentionSet set = await source.GetIntentionsAsync(Timeout());

        foreach ((string name, bool allowed) in expected)
        {
            Assert.That(agent.Authorize("default", name, "default", "api").Authorized, Is.EqualTo(allowed), $"the agent's answer for {name} -> api");
            Assert.That(set.Decide(new ServiceName(name), Api).IsAllowed, Is.EqualTo(allowed), $"Mesh's decision for {name} -> api");
        }
    }

    [Test]
    public async Task An_intention_change_applies_within_one_blocking_round()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.SetIntentions([new TestIntention("web", "api", "allow")]);
        using var client = new ConsulAgentClient(FastOptions(agent));
        await using var source = new ConsulIntentionSource(client, [Api]);
        await source.GetIntentionsAsync(Timeout());
        IChangeToken changed = source.GetChangeToken();

        agent.SetIntentions([new TestIntention("web", "api", "deny")]);

        await EventuallyAsync(() => changed.HasChanged, "the intention source's change token");
        Assert.That(source.Current.Decide(new ServiceName("web"), Api).IsAllowed, Is.False);
    }

    [Test]
    public async Task Deciding_makes_no_call_to_the_agent()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.SetIntentions([new TestIntention("web", "api", "allow")]);
        agent.DefaultIntentionPolicy = "deny";
        ConsulOptions options = FastOptions(agent);
        options.WaitTime = TimeSpan.FromMinutes(1); // no blocking round ends during the decisions
        using var client = new ConsulAgentClient(options);
        await using var source = new ConsulIntentionSource(client, [Api]);
        await source.GetIntentionsAsync(Timeout());
        await EventuallyAsync(() => agent.Requests.Any(r => r.PathAndQuery.Contains("index=", StringComparison.Ordinal)), "the blocking round is open");
        int requests = agent.Requests.Count;

        for (int i = 0; i < 1000; i++)
        {
            Assert.That(source.Current.Decide(new ServiceName(i % 2 == 0 ? "web" : "db" + i), Api).IsAllowed, Is.EqualTo(i % 2 == 0));
        }

        Assert.That(agent.Requests, Has.Count.EqualTo(requests));
    }
}
