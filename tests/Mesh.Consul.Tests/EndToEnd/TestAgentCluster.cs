using Mesh.Consul.TestAgent;

namespace Mesh.Consul.Tests.EndToEnd;

/// <summary>Two test agents, dc1 and dc2, WAN-federated and sharing one CA; intentions default to deny, as a production cluster's.</summary>
internal sealed class TestAgentCluster : ConsulCluster
{
    private readonly List<ConsulTestAgent> _agents;
    private readonly Dictionary<(string Datacenter, string Source, string Destination), TestIntention> _intentions = [];

    private TestAgentCluster(ConsulTestAgent[] agents) => _agents = [.. agents];

    public override string LocalDatacenter => "dc1";

    public override string RemoteDatacenter => "dc2";

    public override string TrustDomain => _agents[0].TrustDomain.Name;

    public override string? CannotRotateLeaf => null;

    public override string? CannotStopAgents => null;

    public override string? CannotJoinDatacenter => null;

    public static async Task<TestAgentCluster> StartAsync()
    {
        // dc3 joins during a test: the shared CA signs for it from the start, as Consul's primary signs for every datacenter.
        ConsulTestAgent[] agents = await ConsulTestAgent.StartFederatedAsync(["dc1", "dc2"], "dc3");
        foreach (ConsulTestAgent agent in agents)
        {
            agent.DefaultIntentionPolicy = "deny";
        }

        return new TestAgentCluster(agents);
    }

    public override string AddressOf(string datacenter) => Agent(datacenter).Address;

    public override Task RegisterAsync(string datacenter, TestService service)
    {
        Agent(datacenter).Register(service);
        return Task.CompletedTask;
    }

    public override Task<string> SetIntentionAsync(string datacenter, string source, string destination, string action)
    {
        // Consul keeps an intention's ID when its action changes.
        var key = (datacenter, source, destination);
        TestIntention intention = _intentions.TryGetValue(key, out TestIntention? existing)
            ? existing with { Action = action }
            : new TestIntention(source, destination, action);
        _intentions[key] = intention;
        Agent(datacenter).SetIntentions(_intentions.Where(p => p.Key.Datacenter == datacenter).Select(static p => p.Value));
        return Task.FromResult(intention.Id);
    }

    public override Task RotateLeafAsync(string datacenter, string service)
    {
        Agent(datacenter).RotateLeaf(service);
        return Task.CompletedTask;
    }

    public override Task RotateRootAsync()
    {
        _agents[0].RotateRoot();
        return Task.CompletedTask;
    }

    public override async Task StopAgentsAsync()
    {
        foreach (ConsulTestAgent agent in _agents)
        {
            await agent.StopAsync();
        }
    }

    public override async Task StartAgentsAsync()
    {
        foreach (ConsulTestAgent agent in _agents.Where(static a => !a.IsRunning))
        {
            await agent.StartAsync();
        }
    }

    public override async Task JoinDatacenterAsync(string datacenter, TestService gateway)
    {
        ConsulTestAgent agent = await ConsulTestAgent.StartAsync(datacenter, _agents[0].Ca);
        _agents.Add(agent);
        agent.Register(gateway);
        agent.JoinWan(_agents[0]);
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (ConsulTestAgent agent in _agents)
        {
            await agent.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    private ConsulTestAgent Agent(string datacenter) =>
        _agents.FirstOrDefault(a => a.Datacenter == datacenter) ?? throw new ArgumentException($"No test agent for {datacenter}.", nameof(datacenter));
}
