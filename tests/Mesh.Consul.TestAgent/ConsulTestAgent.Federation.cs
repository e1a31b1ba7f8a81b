using Mesh.Identity;
using Mesh.Tls.Authority;
using Microsoft.AspNetCore.Http;

namespace Mesh.Consul.TestAgent;

/// <summary>
/// WAN federation as an agent sees it: a request with <c>?dc=</c> naming a federated datacenter is answered from that datacenter's
/// catalog (Consul forwards it to that datacenter's servers), <c>/v1/catalog/datacenters</c> lists every federated datacenter, and
/// the datacenters share one trust domain and CA (the primary's roots are replicated to the secondaries).
/// </summary>
public sealed partial class ConsulTestAgent
{
    private readonly List<ConsulTestAgent> _federation = [];

    /// <summary>Whether the agent listens (between <see cref="StartAsync()"/> and <see cref="StopAsync"/>).</summary>
    public bool IsRunning => _app is not null;

    /// <summary>
    /// Starts one agent per datacenter, the first the primary, federated over the WAN and sharing one CA that signs for every
    /// datacenter named in <paramref name="signsFor"/> too (so that a datacenter can join later with <see cref="JoinWan"/>).
    /// </summary>
    /// <param name="datacenters">The datacenters to start, e.g. <c>dc1</c>, <c>dc2</c>.</param>
    /// <param name="signsFor">More datacenters the shared CA signs for.</param>
    public static async Task<ConsulTestAgent[]> StartFederatedAsync(IReadOnlyList<string> datacenters, params string[] signsFor)
    {
        ArgumentNullException.ThrowIfNull(datacenters);
        var options = new MeshCaOptions
        {
            Datacenter = datacenters[0],
            TrustDomain = TrustDomain.Parse(Guid.NewGuid().ToString() + ".consul"),
        };
        foreach (string datacenter in datacenters.Skip(1).Concat(signsFor).Distinct(StringComparer.Ordinal))
        {
            options.AdditionalDatacenters.Add(datacenter);
        }

        var ca = new MeshCertificateAuthority(options);
        var agents = new ConsulTestAgent[datacenters.Count];
        for (int i = 0; i < agents.Length; i++)
        {
            agents[i] = await StartAsync(datacenters[i], ca).ConfigureAwait(false);
            if (i > 0)
            {
                agents[i].JoinWan(agents[0]);
            }
        }

        return agents;
    }

    /// <summary>
    /// Joins this agent's datacenter to <paramref name="other"/>'s WAN federation (<c>consul join -wan</c>): every member learns
    /// every other, as WAN gossip spreads it. Both must share the CA.
    /// </summary>
    public void JoinWan(ConsulTestAgent other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (!ReferenceEquals(other.Ca, Ca))
        {
            throw new InvalidOperationException("Federated test agents share one CA: start them with StartFederatedAsync or the same ca.");
        }

        ConsulTestAgent[] members = [.. Members().Concat(other.Members()).Distinct()];
        foreach (ConsulTestAgent member in members)
        {
            lock (member._lock)
            {
                member._federation.Clear();
                member._federation.AddRange(members.Where(m => !ReferenceEquals(m, member)));
                member.Signal();
            }
        }
    }

    /// <summary>Removes <paramref name="other"/>'s datacenter from this agent's federation (<c>consul force-leave -wan</c>), both ways.</summary>
    public void LeaveWan(ConsulTestAgent other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (ConsulTestAgent member in Members().Where(m => !ReferenceEquals(m, other)))
        {
            lock (member._lock)
            {
                member._federation.Remove(other);
                member.Signal();
            }
        }

        lock (other._lock)
        {
            other._federation.Clear();
            other.Signal();
        }
    }

    private IEnumerable<ConsulTestAgent> Members()
    {
        lock (_lock)
        {
            return [this, .. _federation];
        }
    }

    private IEnumerable<ConsulTestAgent> SharingTheCa() => Members().Where(m => ReferenceEquals(m.Ca, Ca));

    private IEnumerable<string> FederatedDatacentersLocked() => _federation.Select(static m => m.Datacenter).Order(StringComparer.Ordinal);

    private ConsulTestAgent? FederatedPeer(string? datacenter)
    {
        if (string.IsNullOrEmpty(datacenter) || datacenter == Datacenter)
        {
            return null;
        }

        lock (_lock)
        {
            return _federation.FirstOrDefault(m => m.Datacenter == datacenter);
        }
    }

    // A request forwarded over the WAN is answered by the remote datacenter's servers: its catalog, its blocking indexes. While
    // that datacenter is away, Consul answers 500 as its RPC forwarding fails.
    private async Task AnswerForwardedAsync(HttpContext context)
    {
        if (!IsRunning || FailWithStatus is not null)
        {
            await Text(context, 500, $"rpc error making call: No path to datacenter {Datacenter}").ConfigureAwait(false);
            return;
        }

        await RouteAsync(context).ConfigureAwait(false);
    }
}
