using System.Text.Json;
using Mesh.Consul.Client;
using Mesh.Consul.Json;
using Mesh.Identity;
using Microsoft.Extensions.Logging;

namespace Mesh.Consul;

/// <summary>
/// The datacenters of the WAN federation as the agent knows them (<c>GET /v1/catalog/datacenters</c>), re-read at an interval:
/// that endpoint does not support blocking queries (Consul's API docs list it without them), so a datacenter that joins or leaves
/// is seen at the next read. Through an outage the last list stands.
/// </summary>
internal sealed class ConsulDatacenterWatch : IAsyncDisposable
{
    private readonly BlockingQuery<DatacenterList> _query;

    public ConsulDatacenterWatch(ConsulAgentClient client, TimeSpan refreshInterval, Action<IReadOnlyList<string>> onChanged, ILogger logger)
    {
        // No index comes back, so every round is a plain read; the round interval is the refresh interval.
        _query = new BlockingQuery<DatacenterList>(
            client,
            "datacenters",
            "datacenters",
            ConsulRequest.Get("/v1/catalog/datacenters", "none (any token may list the datacenters)"),
            hashBlocking: false,
            static (response, _) => ValueTask.FromResult(Parse(response)),
            static (a, b) => a.Names.SequenceEqual(b.Names, StringComparer.Ordinal),
            list => onChanged(list.Names),
            logger,
            refreshInterval);
    }

    /// <summary>Completes with the first list, or fails with the permanent error that stopped the watch.</summary>
    public Task FirstValue => _query.FirstValue;

    /// <summary>The permanent error that stopped the watch, if any.</summary>
    public Exception? Fault => _query.Fault;

    public void Start() => _query.Start();

    public ValueTask DisposeAsync() => _query.DisposeAsync();

    // A JSON array of names, ordered by round-trip time from the agent's servers; the order carries no meaning here.
    private static DatacenterList Parse(ConsulResponse response)
    {
        List<string>? names = JsonSerializer.Deserialize(response.Body, ConsulJsonContext.Default.ListString)
            ?? throw new FormatException("The datacenters answer is null.");
        return new DatacenterList([.. names.Where(ServiceName.IsValidPart).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)]);
    }

    private sealed record DatacenterList(IReadOnlyList<string> Names);
}
