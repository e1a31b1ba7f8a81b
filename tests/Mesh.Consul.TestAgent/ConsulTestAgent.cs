using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Consul.TestAgent;

/// <summary>
/// A stand-in for a local Consul agent's HTTP API on 127.0.0.1: the endpoints a data plane reads, with Consul's documented shapes,
/// headers (<c>X-Consul-Index</c>, <c>X-Consul-ContentHash</c>, <c>X-Cache</c>, <c>Age</c>) and blocking semantics, a real CA behind
/// the leaf endpoint (the agent generates each leaf's key, as Consul's agent does), and fault knobs.
/// </summary>
public sealed partial class ConsulTestAgent : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TestService> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IssuedLeaf> _leaves = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ulong> _indexes = new(StringComparer.Ordinal);
    private readonly List<RecordedRequest> _requests = [];
    private readonly HashSet<string> _forbiddenPrefixes = new(StringComparer.Ordinal);
    private List<TestIntention> _intentions = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _index = 10;
    private WebApplication? _app;

    private ConsulTestAgent(string datacenter, MeshCertificateAuthority ca)
    {
        Datacenter = datacenter;
        Ca = ca;
        foreach (string key in new[] { "roots", "catalog", "intentions" })
        {
            _indexes[key] = _index;
        }
    }

    /// <summary>The agent's datacenter.</summary>
    public string Datacenter { get; }

    /// <summary>The CA that signs the leaves.</summary>
    public MeshCertificateAuthority Ca { get; }

    /// <summary>The cluster's trust domain.</summary>
    public TrustDomain TrustDomain => Ca.TrustDomain;

    /// <summary>The port on 127.0.0.1, kept across restarts.</summary>
    public int Port { get; private set; }

    /// <summary>When set, the agent serves HTTPS with this certificate.</summary>
    public X509Certificate2? ServerCertificate { get; private init; }

    /// <summary>When set with <see cref="ServerCertificate"/>, clients must present a certificate issued by this CA (verify_incoming).</summary>
    public X509Certificate2? ClientCertificateAuthority { get; private init; }

    /// <summary>Whether the agent serves HTTPS.</summary>
    public bool UsesHttps => ServerCertificate is not null;

    /// <summary>The unix socket the agent listens on instead of a port, if any.</summary>
    public string? UnixSocketPath { get; private init; }

    /// <summary>The agent's address as CONSUL_HTTP_ADDR would name it.</summary>
    public string Address => UnixSocketPath is not null ? "unix://" + UnixSocketPath : $"{(UsesHttps ? "https" : "http")}://127.0.0.1:{Port}";

    /// <summary>Consul's <c>default_intention_policy</c>; null when not configured.</summary>
    public string? DefaultIntentionPolicy { get; set; }

    /// <summary>Whether ACLs are enabled; then <see cref="AclDefaultPolicy"/> is the default when no intention policy is set.</summary>
    public bool AclsEnabled { get; set; }

    /// <summary>The ACL default policy (<c>allow</c> or <c>deny</c>).</summary>
    public string AclDefaultPolicy { get; set; } = "deny";

    /// <summary>When set, requests without this <c>X-Consul-Token</c> are refused with 403 "ACL not found".</summary>
    public string? RequiredToken { get; set; }

    /// <summary>When set, every request is answered with this status (a 500 as when the servers have no leader).</summary>
    public int? FailWithStatus { get; set; }

    /// <summary>A delay before every answer (a slow agent).</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>When set, every answer carries <c>X-Consul-Index: 0</c> (a bug of older Consul versions clients must survive).</summary>
    public bool ZeroIndex { get; set; }

    /// <summary>When set, every successful answer's body is replaced by bytes that are not JSON (a broken proxy in front of the agent).</summary>
    public bool GarbleAnswers { get; set; }

    /// <summary>The datacenters <c>/v1/catalog/datacenters</c> lists besides this agent's own (the WAN-federated ones).</summary>
    public IList<string> OtherDatacenters { get; } = [];

    /// <summary>The leaf lifetime; the CA's default when null.</summary>
    public TimeSpan? LeafTtl { get; set; }

    /// <summary>The requests received, in order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts an agent on 127.0.0.1 with a port chosen by the system, and a new CA unless one is given.</summary>
    /// <param name="datacenter">The agent's datacenter.</param>
    /// <param name="ca">The CA behind the leaf endpoint; a new one when null.</param>
    /// <param name="unixSocketPath">Listen on this unix socket instead of a TCP port on 127.0.0.1.</param>
    /// <param name="serverCertificate">Serve HTTPS with this certificate.</param>
    /// <param name="clientCertificateAuthority">With HTTPS, require client certificates issued by this CA.</param>
    public static async Task<ConsulTestAgent> StartAsync(string datacenter = "dc1", MeshCertificateAuthority? ca = null, string? unixSocketPath = null, X509Certificate2? serverCertificate = null, X509Certificate2? clientCertificateAuthority = null)
    {
        ca ??= new MeshCertificateAuthority(new MeshCaOptions
        {
            Datacenter = datacenter,
            TrustDomain = TrustDomain.Parse(Guid.NewGuid().ToString() + ".consul"),
        });
        var agent = new ConsulTestAgent(datacenter, ca)
        {
            UnixSocketPath = unixSocketPath,
            ServerCertificate = serverCertificate,
            ClientCertificateAuthority = clientCertificateAuthority,
        };
        await agent.StartAsync().ConfigureAwait(false);
        return agent;
    }

    /// <summary>Starts (or restarts) listening on the agent's port.</summary>
    public async Task StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (UnixSocketPath is not null)
        {
            File.Delete(UnixSocketPath);
            builder.WebHost.UseKestrel(options => options.ListenUnixSocket(UnixSocketPath));
        }
        else
        {
            builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, Port, listen =>
            {
                if (ServerCertificate is not null)
                {
                    listen.UseHttps(https =>
                    {
                        https.ServerCertificate = ServerCertificate;
                        if (ClientCertificateAuthority is not null)
                        {
                            // As an agent with verify_incoming: a client certificate signed by the configured CA is required.
                            https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                            https.ClientCertificateValidation = (certificate, _, _) => ChainsTo(certificate, ClientCertificateAuthority);
                        }
                    });
                }
            }));
        }

        WebApplication app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync().ConfigureAwait(false);
        if (Port == 0 && UnixSocketPath is null)
        {
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            Port = new Uri(address).Port;
        }

        _app = app;
    }

    /// <summary>Stops listening (an agent restart or outage); open blocking queries are cut.</summary>
    public async Task StopAsync()
    {
        WebApplication? app = _app;
        _app = null;
        if (app is not null)
        {
            // A cancelled token stops at once, cutting open blocking queries as a killed agent would.
            await app.StopAsync(new CancellationToken(canceled: true)).ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Ca.Dispose();
        if (UnixSocketPath is not null)
        {
            File.Delete(UnixSocketPath);
        }
    }

    /// <summary>Registers or replaces a service instance.</summary>
    public void Register(TestService service)
    {
        lock (_lock)
        {
            _services[service.Id] = service;
            Bump("catalog", "service/" + service.Id);
        }
    }

    /// <summary>Removes a service instance.</summary>
    public void Deregister(string id)
    {
        lock (_lock)
        {
            _services.Remove(id);
            Bump("catalog", "service/" + id);
        }
    }

    /// <summary>Replaces every intention.</summary>
    public void SetIntentions(IEnumerable<TestIntention> intentions)
    {
        lock (_lock)
        {
            _intentions = [.. intentions];
            Bump("intentions");
        }
    }

    /// <summary>Refuses requests whose path starts with <paramref name="pathPrefix"/> with 403 "Permission denied".</summary>
    public void Forbid(string pathPrefix)
    {
        lock (_lock)
        {
            _forbiddenPrefixes.Add(pathPrefix);
        }
    }

    /// <summary>Renews a service's leaf (as the agent does at 60–90 % of its lifetime).</summary>
    public void RotateLeaf(string service)
    {
        lock (_lock)
        {
            _leaves[service] = Issue(service, NextIndex());
            Bump("leaf/" + service);
        }
    }

    /// <summary>Rotates the CA's root and renews every leaf under the new one (Consul does within 30 s).</summary>
    public void RotateRoot()
    {
        lock (_lock)
        {
            Ca.RotateRoot();
        }

        // The primary's new root reaches every federated datacenter, whose agents renew their leaves under it (Consul replicates
        // the roots to secondary datacenters).
        foreach (ConsulTestAgent agent in SharingTheCa())
        {
            agent.RenewUnderNewRoot();
        }
    }

    private void RenewUnderNewRoot()
    {
        lock (_lock)
        {
            Bump("roots");
            foreach (string service in _leaves.Keys.ToList())
            {
                _leaves[service] = Issue(service, NextIndex());
                Bump("leaf/" + service);
            }
        }
    }

    /// <summary>
    /// Moves every index below what clients have seen, as after an agent restart with a fresh cache or a server snapshot restore.
    /// </summary>
    public void MoveIndexBackwards()
    {
        lock (_lock)
        {
            _index = 2;
            foreach (string key in _indexes.Keys.ToList())
            {
                _indexes[key] = 1;
            }

            foreach (string service in _leaves.Keys.ToList())
            {
                _leaves[service] = _leaves[service] with { Index = 1 };
            }

            Signal();
        }
    }

    /// <summary>The current index of a resource key (<c>roots</c>, <c>catalog</c>, <c>intentions</c>, <c>leaf/&lt;svc&gt;</c>).</summary>
    public ulong IndexOf(string key)
    {
        lock (_lock)
        {
            return _indexes.GetValueOrDefault(key);
        }
    }

    /// <summary>What Consul's <c>POST /v1/agent/connect/authorize</c> answers for a source service and a destination.</summary>
    public (bool Authorized, string Reason) Authorize(string sourceNamespace, string sourceName, string destinationNamespace, string destinationName)
    {
        List<TestIntention> intentions;
        lock (_lock)
        {
            intentions = _intentions;
        }

        // Every intention whose destination matches, by precedence, ties by source ns, source name, dest ns, dest name; the first
        // whose source matches decides. L7 permissions count as deny for an L4 authorization.
        TestIntention? match = intentions
            .Where(i => (i.DestinationNamespace == "*" || i.DestinationNamespace == destinationNamespace) && (i.DestinationName == "*" || i.DestinationName == destinationName))
            .OrderByDescending(static i => i.Precedence)
            .ThenBy(static i => i.SourceNamespace, StringComparer.Ordinal)
            .ThenBy(static i => i.SourceName, StringComparer.Ordinal)
            .ThenBy(static i => i.DestinationNamespace, StringComparer.Ordinal)
            .ThenBy(static i => i.DestinationName, StringComparer.Ordinal)
            .FirstOrDefault(i => (i.SourceNamespace == "*" || i.SourceNamespace == sourceNamespace) && (i.SourceName == "*" || i.SourceName == sourceName));
        if (match is not null)
        {
            return match.L7 ? (false, $"Matched L7 intention: {match.Id}") : (match.Action == "allow", $"Matched L4 intention: {match.Id}");
        }

        string policy = DefaultIntentionPolicy ?? (AclsEnabled ? AclDefaultPolicy : "allow");
        return (policy == "allow", "Default behavior configured by ACLs");
    }

    private ulong NextIndex() => ++_index;

    private void Bump(params string[] keys)
    {
        ulong index = NextIndex();
        foreach (string key in keys)
        {
            _indexes[key] = index;
        }

        Signal();
    }

    private void Signal()
    {
        TaskCompletionSource previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private async Task HandleAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string? token = request.Headers["X-Consul-Token"].FirstOrDefault();
        string path = request.Path.Value ?? "/";
        lock (_lock)
        {
            _requests.Add(new RecordedRequest(request.Method, path + request.QueryString.Value, token));
        }

        if (ResponseDelay > TimeSpan.Zero)
        {
            await Task.Delay(ResponseDelay, context.RequestAborted).ConfigureAwait(false);
        }

        if (FailWithStatus is { } status)
        {
            await Text(context, status, "rpc error making call: No cluster leader").ConfigureAwait(false);
            return;
        }

        if (RequiredToken is not null && token != RequiredToken)
        {
            await Text(context, 403, "ACL not found").ConfigureAwait(false);
            return;
        }

        bool forbidden;
        lock (_lock)
        {
            forbidden = _forbiddenPrefixes.Any(path.StartsWith);
        }

        if (forbidden)
        {
            await Text(context, 403, "Permission denied").ConfigureAwait(false);
            return;
        }

        if (FederatedPeer(request.Query["dc"].FirstOrDefault()) is { } peer)
        {
            await peer.AnswerForwardedAsync(context).ConfigureAwait(false);
            return;
        }

        await RouteAsync(context).ConfigureAwait(false);
    }

    private async Task RouteAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string path = request.Path.Value ?? "/";
        if (await TryWriteApiAsync(context, path).ConfigureAwait(false))
        {
            return;
        }

        const string Leaf = "/v1/agent/connect/ca/leaf/";
        const string HealthConnect = "/v1/health/connect/";
        const string HealthService = "/v1/health/service/";
        const string AgentService = "/v1/agent/service/";
        switch (request.Method)
        {
            case "GET" when path == "/v1/agent/connect/ca/roots":
                await BlockingAsync(context, "roots", Roots).ConfigureAwait(false);
                break;
            case "GET" when path.StartsWith(Leaf, StringComparison.Ordinal):
                string service = Uri.UnescapeDataString(path[Leaf.Length..]);
                await BlockingAsync(context, "leaf/" + service, () => LeafJson(service)).ConfigureAwait(false);
                break;
            case "GET" when path.StartsWith(HealthConnect, StringComparison.Ordinal):
                await HealthAsync(context, Uri.UnescapeDataString(path[HealthConnect.Length..]), connect: true).ConfigureAwait(false);
                break;
            case "GET" when path.StartsWith(HealthService, StringComparison.Ordinal):
                await HealthAsync(context, Uri.UnescapeDataString(path[HealthService.Length..]), connect: false).ConfigureAwait(false);
                break;
            case "GET" when path == "/v1/catalog/services":
                await BlockingAsync(context, "catalog", () => CatalogServices(request.Query["dc"].FirstOrDefault() ?? Datacenter)).ConfigureAwait(false);
                break;
            case "GET" when path == "/v1/connect/intentions/match":
                await BlockingAsync(context, "intentions", () => Match(request.Query["name"].FirstOrDefault() ?? string.Empty)).ConfigureAwait(false);
                break;
            case "POST" when path == "/v1/agent/connect/authorize":
                await AuthorizeAsync(context).ConfigureAwait(false);
                break;
            case "GET" when path == "/v1/catalog/datacenters":
                await Json(context, Datacenters(), null).ConfigureAwait(false);
                break;
            case "GET" when path == "/v1/agent/services":
                await Json(context, AgentServices(), null).ConfigureAwait(false);
                break;
            case "GET" when path.StartsWith(AgentService, StringComparison.Ordinal):
                await AgentServiceAsync(context, Uri.UnescapeDataString(path[AgentService.Length..])).ConfigureAwait(false);
                break;
            default:
                await Text(context, 404, "Invalid URL path: not a recognized HTTP API endpoint").ConfigureAwait(false);
                break;
        }
    }

    // Consul's blocking query: with ?index=N, hold the request until the resource's index exceeds N or the wait (default 5 min,
    // at most 10 min, plus up to wait/16 of jitter) ends; then answer the current value with X-Consul-Index.
    private async Task BlockingAsync(HttpContext context, string key, Func<JsonNode?> body)
    {
        ulong minIndex = ulong.TryParse(context.Request.Query["index"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong parsed) ? parsed : 0;
        if (minIndex > 0)
        {
            TimeSpan wait = ParseWait(context.Request.Query["wait"].FirstOrDefault());
            long deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (IndexOfLocked(key) > minIndex)
                    {
                        break;
                    }

                    changed = _changed.Task;
                }

                long remaining = deadline - Environment.TickCount64;
                if (remaining <= 0)
                {
                    break;
                }

                try
                {
                    await changed.WaitAsync(TimeSpan.FromMilliseconds(remaining), context.RequestAborted).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    break;
                }
            }
        }

        JsonNode? node;
        ulong index;
        lock (_lock)
        {
            node = body();
            index = IndexOfLocked(key);
        }

        if (node is null)
        {
            await Text(context, 404, "Unknown service").ConfigureAwait(false);
            return;
        }

        if (context.Request.Query.ContainsKey("cached"))
        {
            context.Response.Headers["X-Cache"] = minIndex > 0 ? "HIT" : "MISS";
            context.Response.Headers["Age"] = "0";
        }

        await Json(context, node, ZeroIndex ? 0 : index).ConfigureAwait(false);
    }

    private ulong IndexOfLocked(string key) => key.StartsWith("leaf/", StringComparison.Ordinal)
        ? (_leaves.TryGetValue(key[5..], out IssuedLeaf? leaf) ? leaf.Index : _index)
        : _indexes.GetValueOrDefault(key, 1UL);

    private static TimeSpan ParseWait(string? text)
    {
        TimeSpan wait = TimeSpan.FromMinutes(5);
        if (!string.IsNullOrEmpty(text))
        {
            (string number, double scale) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 1.0)
                : text.EndsWith('s') ? (text[..^1], 1000.0)
                : text.EndsWith('m') ? (text[..^1], 60_000.0)
                : (text, 1000.0);
            if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                wait = TimeSpan.FromMilliseconds(value * scale);
            }
        }

        wait = wait > TimeSpan.FromMinutes(10) ? TimeSpan.FromMinutes(10) : wait;
#pragma warning disable CA5394 // Jitter, not security.
        return wait + TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * wait.TotalMilliseconds / 16);
#pragma warning restore CA5394
    }

    private JsonNode Roots()
    {
        var roots = new JsonArray();
        string? activeId = null;
        foreach (MeshCaRoot root in Ca.Roots)
        {
            string id = ColonHex(SHA1.HashData(root.Certificate.RawData));
            activeId = root.Active ? id : activeId;
            JsonArray? intermediates = root.IntermediateCertificates.Count == 0 ? null : [.. root.IntermediateCertificates.Select(static c => (JsonNode)c.ExportCertificatePem())];
            roots.Add(new JsonObject
            {
                ["ID"] = id,
                ["Name"] = "Consul CA Primary Cert",
                ["SerialNumber"] = SerialAsNumber(root.Certificate),
                ["SigningKeyID"] = ColonHex(root.SigningKeyId.Span),
                ["ExternalTrustDomain"] = TrustDomain.Name.Split('.')[0],
                ["NotBefore"] = root.Certificate.NotBefore.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["NotAfter"] = root.Certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                ["RootCert"] = root.Certificate.ExportCertificatePem() + "\n",
                ["IntermediateCerts"] = intermediates,
                ["Active"] = root.Active,
                ["PrivateKeyType"] = "ec",
                ["PrivateKeyBits"] = 256,
                ["CreateIndex"] = _indexes["roots"],
                ["ModifyIndex"] = _indexes["roots"],
            });
        }

        return new JsonObject { ["ActiveRootID"] = activeId, ["TrustDomain"] = TrustDomain.Name, ["Roots"] = roots };
    }

    // The agent's leaf cache: the first request for a service issues a leaf (the service need not be registered).
    private JsonObject LeafJson(string service)
    {
        if (!_leaves.TryGetValue(service, out IssuedLeaf? leaf))
        {
            _leaves[service] = leaf = Issue(service, NextIndex());
        }

        return new JsonObject
        {
            ["SerialNumber"] = leaf.Serial,
            ["CertPEM"] = leaf.CertPem,
            ["PrivateKeyPEM"] = leaf.KeyPem,
            ["Service"] = service,
            ["ServiceURI"] = leaf.Uri,
            ["ValidAfter"] = leaf.ValidAfter.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["ValidBefore"] = leaf.ValidBefore.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["Namespace"] = "default",
            ["CreateIndex"] = leaf.Index,
            ["ModifyIndex"] = leaf.Index,
        };
    }

    // Consul's agent generates the key (EC P-256 by default), sends a CSR with the service's SPIFFE ID, and keeps the key.
    private IssuedLeaf Issue(string service, ulong index)
    {
        string uri = $"spiffe://{TrustDomain.Name}/ns/default/dc/{Datacenter}/svc/{service}";
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(string.Empty), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(uri));
        request.CertificateExtensions.Add(san.Build(critical: true));
        SignedCertificate signed = Ca.SignCsr(request.CreateSigningRequestPem(), LeafTtl);
        using X509Certificate2 certificate = signed.LoadCertificate();
        return new IssuedLeaf(ColonHex(certificate.GetSerialNumber().Reverse().ToArray()), signed.ToPem(), key.ExportECPrivateKeyPem(), uri, signed.NotBefore.UtcDateTime, signed.NotAfter.UtcDateTime, index);
    }

    private async Task HealthAsync(HttpContext context, string name, bool connect)
    {
        string datacenter = context.Request.Query["dc"].FirstOrDefault() ?? Datacenter;
        bool passingOnly = context.Request.Query.ContainsKey("passing");
        await BlockingAsync(context, "catalog", () =>
        {
            var entries = new JsonArray();
            foreach (TestService service in _services.Values.OrderBy(static s => s.Id, StringComparer.Ordinal))
            {
                bool matches = connect
                    ? (service.Kind == "connect-proxy" && service.Proxy?.DestinationServiceName == name) || (service.ConnectNative && service.Name == name)
                    : service.Name == name;
                if (matches && (service.Datacenter ?? Datacenter) == datacenter && (!passingOnly || service.Passing))
                {
                    entries.Add(HealthEntry(service));
                }
            }

            return entries;
        }).ConfigureAwait(false);
    }

    private JsonObject HealthEntry(TestService service)
    {
        string datacenter = service.Datacenter ?? Datacenter;
        ulong index = _indexes["catalog"];
        return new JsonObject
        {
            ["Node"] = new JsonObject
            {
                ["ID"] = "7037e928-d9e8-3b58-4712-6f5ded209002",
                ["Node"] = service.Node,
                ["Address"] = service.NodeAddress,
                ["Datacenter"] = datacenter,
                ["TaggedAddresses"] = new JsonObject { ["lan"] = service.NodeAddress, ["wan"] = service.NodeAddress },
                ["Meta"] = new JsonObject { ["consul-network-segment"] = string.Empty },
                ["CreateIndex"] = index,
                ["ModifyIndex"] = index,
            },
            ["Service"] = ServiceJson(service, datacenter, index),
            ["Checks"] = new JsonArray
            {
                new JsonObject
                {
                    ["Node"] = service.Node,
                    ["CheckID"] = "serfHealth",
                    ["Name"] = "Serf Health Status",
                    ["Status"] = "passing",
                    ["ServiceID"] = string.Empty,
                    ["ServiceName"] = string.Empty,
                },
                new JsonObject
                {
                    ["Node"] = service.Node,
                    ["CheckID"] = "service:" + service.Id,
                    ["Name"] = $"Service '{service.Name}' check",
                    ["Status"] = service.Passing ? "passing" : "critical",
                    ["ServiceID"] = service.Id,
                    ["ServiceName"] = service.Name,
                },
            },
        };
    }

    private static JsonObject ServiceJson(TestService service, string datacenter, ulong index)
    {
        var tagged = new JsonObject();
        if (service.Lan is { } lan)
        {
            tagged["lan"] = new JsonObject { ["Address"] = lan.Address, ["Port"] = lan.Port };
        }

        if (service.Wan is { } wan)
        {
            tagged["wan"] = new JsonObject { ["Address"] = wan.Address, ["Port"] = wan.Port };
        }

        var json = new JsonObject
        {
            ["Kind"] = service.Kind,
            ["ID"] = service.Id,
            ["Service"] = service.Name,
            ["Tags"] = new JsonArray(),
            ["Address"] = service.Address,
            ["TaggedAddresses"] = tagged,
            ["Meta"] = service.Meta is null ? null : new JsonObject(service.Meta.Select(static m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))),
            ["Port"] = service.Port,
            ["Weights"] = new JsonObject { ["Passing"] = 1, ["Warning"] = 1 },
            ["EnableTagOverride"] = false,
            ["Connect"] = service.ConnectNative ? new JsonObject { ["Native"] = true } : new JsonObject(),
            ["Namespace"] = service.Namespace,
            ["Datacenter"] = datacenter,
            ["CreateIndex"] = index,
            ["ModifyIndex"] = index,
        };
        if (service.Proxy is { } proxy)
        {
            json["Proxy"] = new JsonObject
            {
                ["DestinationServiceName"] = proxy.DestinationServiceName,
                ["DestinationServiceID"] = proxy.DestinationServiceId ?? proxy.DestinationServiceName,
                ["LocalServiceAddress"] = proxy.LocalServiceAddress,
                ["LocalServicePort"] = proxy.LocalServicePort,
                ["Mode"] = string.Empty,
                ["MeshGateway"] = new JsonObject { ["Mode"] = proxy.MeshGatewayMode },
                ["Expose"] = new JsonObject(),
                ["Upstreams"] = new JsonArray([.. proxy.Upstreams.Select(static u => (JsonNode)new JsonObject
                {
                    ["DestinationType"] = u.DestinationType,
                    ["DestinationNamespace"] = u.DestinationNamespace,
                    ["DestinationName"] = u.DestinationName,
                    ["Datacenter"] = u.Datacenter,
                    ["LocalBindAddress"] = u.LocalBindAddress,
                    ["LocalBindPort"] = u.LocalBindPort,
                    ["MeshGateway"] = new JsonObject { ["Mode"] = u.MeshGatewayMode },
                })]),
            };
        }

        return json;
    }

    private JsonObject CatalogServices(string datacenter)
    {
        var services = new JsonObject();
        foreach (string name in _services.Values.Where(s => (s.Datacenter ?? Datacenter) == datacenter).Select(static s => s.Name).Distinct().Order(StringComparer.Ordinal))
        {
            services[name] = new JsonArray();
        }

        return services;
    }

    private JsonObject Match(string name)
    {
        var list = new JsonArray();
        foreach (TestIntention intention in _intentions
            .Where(i => i.DestinationName == name || i.DestinationName == "*")
            .OrderByDescending(static i => i.Precedence))
        {
            var json = new JsonObject
            {
                ["ID"] = intention.Id,
                ["Description"] = string.Empty,
                ["SourceNS"] = intention.SourceNamespace,
                ["SourceName"] = intention.SourceName,
                ["DestinationNS"] = intention.DestinationNamespace,
                ["DestinationName"] = intention.DestinationName,
                ["SourceType"] = "consul",
                ["Action"] = intention.L7 ? string.Empty : intention.Action,
                ["Precedence"] = intention.Precedence,
                ["Meta"] = new JsonObject(),
                ["CreatedAt"] = "2018-05-21T16:41:27.977155457Z",
                ["UpdatedAt"] = "2018-05-21T16:41:27.977157724Z",
                ["CreateIndex"] = _indexes["intentions"],
                ["ModifyIndex"] = _indexes["intentions"],
            };
            if (intention.L7)
            {
                json["Permissions"] = new JsonArray { new JsonObject { ["Action"] = "allow", ["HTTP"] = new JsonObject { ["PathPrefix"] = "/" } } };
            }

            list.Add(json);
        }

        return new JsonObject { [name] = list };
    }

    private async Task AuthorizeAsync(HttpContext context)
    {
        using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
        string target = body.RootElement.GetProperty("Target").GetString() ?? string.Empty;
        string uri = body.RootElement.GetProperty("ClientCertURI").GetString() ?? string.Empty;

        // spiffe://<td>[/ap/<ap>]/ns/<ns>/dc/<dc>/svc/<svc>; Consul refuses anything else with 400.
        string[] parts = uri.Split('/');
        int ns = Array.IndexOf(parts, "ns");
        int svc = Array.IndexOf(parts, "svc");
        if (!uri.StartsWith("spiffe://", StringComparison.Ordinal) || ns < 0 || svc < 0 || svc + 1 >= parts.Length)
        {
            await Text(context, 400, "ClientCertURI not a valid Connect identifier").ConfigureAwait(false);
            return;
        }

        string destinationNamespace = context.Request.Headers["X-Consul-Namespace"].FirstOrDefault() ?? "default";
        (bool authorized, string reason) = Authorize(parts[ns + 1], parts[svc + 1], destinationNamespace, target);
        await Json(context, new JsonObject { ["Authorized"] = authorized, ["Reason"] = reason }, null).ConfigureAwait(false);
    }

    // GET /v1/catalog/datacenters: a plain array of names, the agent's own first (Consul sorts by round-trip time).
    private JsonArray Datacenters()
    {
        var list = new JsonArray(JsonValue.Create(Datacenter));
        lock (_lock)
        {
            foreach (string datacenter in OtherDatacenters.Concat(FederatedDatacentersLocked()).Distinct(StringComparer.Ordinal))
            {
                list.Add(JsonValue.Create(datacenter));
            }
        }

        return list;
    }

    private JsonObject AgentServices()
    {
        var services = new JsonObject();
        lock (_lock)
        {
            foreach (TestService service in _services.Values.Where(static s => s.Local))
            {
                services[service.Id] = AgentServiceJson(service);
            }
        }

        return services;
    }

    private JsonObject AgentServiceJson(TestService service)
    {
        JsonObject json = ServiceJson(service, service.Datacenter ?? Datacenter, _indexes["catalog"]);
        json.Remove("CreateIndex");
        json.Remove("ModifyIndex");
        json["ContentHash"] = ContentHash(json);
        return json;
    }

    private static string ContentHash(JsonObject json) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json.ToJsonString())))[..16];

    // GET /v1/agent/service/<id> blocks on the content hash (?hash=&wait=), not on an index.
    private async Task AgentServiceAsync(HttpContext context, string id)
    {
        string? hash = context.Request.Query["hash"].FirstOrDefault();
        TimeSpan wait = ParseWait(context.Request.Query["wait"].FirstOrDefault());
        long deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        while (true)
        {
            JsonObject? json;
            Task changed;
            lock (_lock)
            {
                json = _services.TryGetValue(id, out TestService? service) && service.Local ? AgentServiceJson(service) : null;
                changed = _changed.Task;
            }

            if (json is null)
            {
                await Text(context, 404, $"unknown service ID: {id}").ConfigureAwait(false);
                return;
            }

            string current = json["ContentHash"]!.GetValue<string>();
            long remaining = deadline - Environment.TickCount64;
            if (hash is null || hash != current || remaining <= 0)
            {
                context.Response.Headers["X-Consul-ContentHash"] = current;
                await Json(context, json, null).ConfigureAwait(false);
                return;
            }

            try
            {
                await changed.WaitAsync(TimeSpan.FromMilliseconds(remaining), context.RequestAborted).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    private async Task Json(HttpContext context, JsonNode node, ulong? index)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        if (index is { } value)
        {
            context.Response.Headers["X-Consul-Index"] = value.ToString(CultureInfo.InvariantCulture);
            context.Response.Headers["X-Consul-KnownLeader"] = "true";
            context.Response.Headers["X-Consul-LastContact"] = "0";
        }

        await context.Response.WriteAsync(GarbleAnswers ? "<html>502 Bad Gateway" : node.ToJsonString(), context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task Text(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message, context.RequestAborted).ConfigureAwait(false);
    }

    private static bool ChainsTo(X509Certificate2 certificate, X509Certificate2 authority)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static string ColonHex(ReadOnlySpan<byte> bytes) => string.Join(':', bytes.ToArray().Select(static b => b.ToString("x2", CultureInfo.InvariantCulture)));

    private static ulong SerialAsNumber(X509Certificate2 certificate)
    {
        byte[] serial = certificate.GetSerialNumber(); // little-endian
        ulong value = 0;
        for (int i = Math.Min(serial.Length, 8) - 1; i >= 0; i--)
        {
            value = (value << 8) | serial[i];
        }

        return value;
    }

    private sealed record IssuedLeaf(string Serial, string CertPem, string KeyPem, string Uri, DateTime ValidAfter, DateTime ValidBefore, ulong Index);
}
