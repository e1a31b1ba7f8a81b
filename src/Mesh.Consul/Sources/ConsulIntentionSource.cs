using System.Text;
using System.Text.Json;
using Mesh.Consul.Client;
using Mesh.Consul.Json;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Intentions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Mesh.Consul;

/// <summary>
/// The intentions that apply to the local destination services, evaluated locally: one blocking
/// <c>GET /v1/connect/intentions/match?by=destination&amp;name=&lt;service&gt;</c> per destination, and the agent's default decision
/// (<c>default_intention_policy</c>, else the ACL default policy, else allow) learnt from <c>POST /v1/agent/connect/authorize</c>
/// with a source that no intention matches. Decisions never call the agent; a change applies within one blocking round.
/// </summary>
/// <remarks>Needs <c>intentions:read</c> on the destinations and <c>service:write</c> on them for the default probe.</remarks>
public sealed class ConsulIntentionSource : IIntentionSource, IAsyncDisposable
{
    // The probe source: a name no intention names. A wildcard source intention matches it too; then the default cannot be reached
    // from this destination for any source in its namespace, and the probe is skipped.
    internal const string ProbeServiceName = "mesh-default-intention-probe";

    private readonly ConsulAgentClient _client;
    private readonly ILogger _logger;
    private readonly ChangeNotifier _signal = new();
    private readonly Lock _lock = new();
    private readonly Dictionary<ServiceName, BlockingQuery<MatchValue>> _queries = [];
    private IntentionSet _current = IntentionSet.Empty;
    private bool _disposed;

    /// <summary>Starts watching the intentions of the given destination services.</summary>
    public ConsulIntentionSource(ConsulAgentClient client, IEnumerable<ServiceName> destinations)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(destinations);
        _client = client;
        _logger = client.LoggerFactory.CreateLogger<ConsulIntentionSource>();
        foreach (ServiceName destination in destinations)
        {
            Watch(destination);
        }
    }

    /// <inheritdoc />
    public IntentionSet Current => Volatile.Read(ref _current);

    /// <summary>The permanent errors (403s naming the missing permission) of the watches that stopped.</summary>
    public IReadOnlyList<Exception> Faults
    {
        get
        {
            lock (_lock)
            {
                return [.. _queries.Values.Select(static q => q.Fault).OfType<Exception>()];
            }
        }
    }

    /// <summary>Adds a destination service whose intentions are watched.</summary>
    public void Watch(ServiceName destination)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_queries.ContainsKey(destination))
            {
                return;
            }

            var query = new List<KeyValuePair<string, string?>> { new("by", "destination"), new("name", destination.Name) };
            if (destination.Namespace != ServiceName.Default)
            {
                query.Add(new("ns", destination.Namespace));
            }

            var blocking = new BlockingQuery<MatchValue>(
                _client,
                $"intentions {destination.Name}",
                "intentions",
                new ConsulRequest(HttpMethod.Get, "/v1/connect/intentions/match", query, $"intentions:read on \"{destination.Name}\" (service \"{destination.Name}\" {{ intentions = \"read\" }})"),
                hashBlocking: false,
                (response, cancellationToken) => ParseAsync(response, destination, cancellationToken),
                static (a, b) => a.Fingerprint == b.Fingerprint,
                _ => Rebuild(),
                _logger);
            _queries[destination] = blocking;
            blocking.Start();
        }
    }

    /// <summary>Waits until every watched destination has its first answer; fails with the 403 that stopped one.</summary>
    public async ValueTask<IntentionSet> GetIntentionsAsync(CancellationToken cancellationToken)
    {
        Task[] first;
        lock (_lock)
        {
            first = [.. _queries.Values.Select(static q => (Task)q.FirstValue)];
        }

        await Task.WhenAll(first).WaitAsync(cancellationToken).ConfigureAwait(false);
        return Current;
    }

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _signal.GetChangeToken();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        List<BlockingQuery<MatchValue>> queries;
        lock (_lock)
        {
            _disposed = true;
            queries = [.. _queries.Values];
            _queries.Clear();
        }

        foreach (BlockingQuery<MatchValue> query in queries)
        {
            await query.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void Rebuild()
    {
        lock (_lock)
        {
            // One intention can apply to several destinations (a * destination); keep it once.
            var intentions = new Dictionary<(IntentionSource, IntentionDestination), Intention>();
            IntentionAction? defaultAction = null;
            foreach (BlockingQuery<MatchValue> query in _queries.Values)
            {
                if (query.Current is not { } value)
                {
                    continue;
                }

                foreach (Intention intention in value.Intentions)
                {
                    intentions.TryAdd((intention.Source, intention.Destination), intention);
                }

                defaultAction ??= value.DefaultAction;
            }

            // Unknown only when every destination has a wildcard source, so no decision reaches the default.
            Volatile.Write(ref _current, new IntentionSet(intentions.Values, defaultAction ?? IntentionAction.Deny));
        }

        _signal.NotifyChanged();
    }

    private async ValueTask<MatchValue> ParseAsync(ConsulResponse response, ServiceName destination, CancellationToken cancellationToken)
    {
        // {"<name>": [intentions, highest precedence first]}
        using JsonDocument document = JsonDocument.Parse(response.Body);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("The intention match answer is not a JSON object.");
        }

        IReadOnlyList<Intention> intentions = [];
        if (document.RootElement.TryGetProperty(destination.Name, out JsonElement list) && list.ValueKind == JsonValueKind.Array)
        {
            intentions = IntentionJson.ReadIntentionList(Encoding.UTF8.GetBytes(list.GetRawText()));
        }

        var probe = new ServiceName(ProbeServiceName, destination.Namespace, destination.Partition);
        IntentionAction? defaultAction = null;
        if (new IntentionSet(intentions).Decide(probe, destination).Reason == IntentionDecisionReason.DefaultPolicy)
        {
            defaultAction = await ProbeDefaultAsync(destination, cancellationToken).ConfigureAwait(false);
        }

        string fingerprint = list.ValueKind == JsonValueKind.Array ? list.GetRawText() : "[]";
        return new MatchValue(intentions, defaultAction, fingerprint + "\n" + defaultAction);
    }

    // The agent's answer for a source no intention matches is its default: default_intention_policy, else the ACL default policy,
    // else allow when ACLs are off (Consul agent/connect_auth.go). Authorization ignores the trust domain and datacenter.
    private async ValueTask<IntentionAction> ProbeDefaultAsync(ServiceName destination, CancellationToken cancellationToken)
    {
        string partition = destination.IsDefaultPartition ? string.Empty : $"/ap/{destination.Partition}";
        var body = new AuthorizeRequestDto
        {
            Target = destination.Name,
            ClientCertUri = $"spiffe://00000000-0000-0000-0000-000000000000.consul{partition}/ns/{destination.Namespace}/dc/probe/svc/{ProbeServiceName}",
            ClientCertSerial = "00",
        };
        var request = new ConsulRequest(
            HttpMethod.Post,
            "/v1/agent/connect/authorize",
            [],
            $"service:write on \"{destination.Name}\" (to ask the agent for its default intention decision)",
            JsonSerializer.SerializeToUtf8Bytes(body, ConsulJsonContext.Default.AuthorizeRequestDto));
        ConsulResponse response = await _client.SendAsync(request, null, null, cancellationToken).ConfigureAwait(false);
        AuthorizeResponseDto answer = JsonSerializer.Deserialize(response.Body, ConsulJsonContext.Default.AuthorizeResponseDto)
            ?? throw new FormatException("The authorize answer is null.");
        return answer.Authorized ? IntentionAction.Allow : IntentionAction.Deny;
    }

    internal sealed record MatchValue(IReadOnlyList<Intention> Intentions, IntentionAction? DefaultAction, string Fingerprint);
}
