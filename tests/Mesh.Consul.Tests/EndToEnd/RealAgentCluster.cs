using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Mesh.Consul.TestAgent;

namespace Mesh.Consul.Tests.EndToEnd;

/// <summary>
/// A real Consul agent (<c>consul agent -dev</c>, or any agent the test may write to) at <c>CONSUL_HTTP_ADDR</c>, driven through
/// its documented HTTP API: <c>PUT /v1/agent/service/register</c>, <c>PUT /v1/connect/intentions/exact</c>,
/// <c>PUT /v1/connect/ca/configuration</c>. One datacenter: dashboard and counting meet in it, without gateways. What the test
/// registered is removed again on dispose.
/// </summary>
internal sealed class RealAgentCluster : ConsulCluster
{
    private readonly string _address;
    private readonly List<string> _services = [];
    private readonly HashSet<(string Source, string Destination)> _intentions = [];
    private string _datacenter = string.Empty;
    private string _trustDomain = string.Empty;

    private readonly IAsyncDisposable? _agent;

    private RealAgentCluster(string address, string? token, IAsyncDisposable? agent)
    {
        _address = address;
        Token = token;
        _agent = agent;
    }

    public override string LocalDatacenter => _datacenter;

    public override string RemoteDatacenter => _datacenter;

    public override string TrustDomain => _trustDomain;

    public override string? Token { get; }

    public override string? CannotRotateLeaf =>
        "a real Consul agent renews a leaf near its expiry or after a root change; no API renews one leaf on demand (the root rotation test covers renewal)";

    public override string? CannotStopAgents =>
        "the agent at CONSUL_HTTP_ADDR is not the test's to stop and restart (the test agents cover the outage)";

    public override string? CannotJoinDatacenter =>
        "a single consul agent -dev is one datacenter; a datacenter that joins needs a second agent federated over the WAN (the test agents cover it)";

    /// <summary>Connects to the agent named as <c>CONSUL_HTTP_ADDR</c> names it and reads its datacenter and trust domain.</summary>
    /// <param name="address">The agent's address.</param>
    /// <param name="token">The ACL token, if any.</param>
    /// <param name="agent">An agent the cluster owns and disposes last (a test agent standing in for the real one).</param>
    public static async Task<RealAgentCluster> ConnectAsync(string address, string? token, IAsyncDisposable? agent = null)
    {
        // CONSUL_HTTP_ADDR may omit the scheme; CONSUL_HTTP_SSL=true then means https, as the consul CLI reads it.
        if (!address.Contains("://", StringComparison.Ordinal))
        {
            bool ssl = bool.TryParse(Environment.GetEnvironmentVariable("CONSUL_HTTP_SSL"), out bool parsed) && parsed;
            address = (ssl ? "https://" : "http://") + address;
        }

        if (address.StartsWith("unix://", StringComparison.Ordinal))
        {
            Assert.Ignore($"CONSUL_HTTP_ADDR is the unix socket {address}; these tests talk to the agent over HTTP: give http://127.0.0.1:8500.");
        }

        var cluster = new RealAgentCluster(address, string.IsNullOrWhiteSpace(token) ? null : token, agent);
        using (HttpResponseMessage self = await cluster.SendAsync(string.Empty, HttpMethod.Get, "/v1/agent/self"))
        {
            JsonNode config = (await self.Content.ReadFromJsonAsync<JsonNode>())!["Config"]!;
            cluster._datacenter = config["Datacenter"]!.GetValue<string>();
        }

        using (HttpResponseMessage roots = await cluster.SendAsync(string.Empty, HttpMethod.Get, "/v1/agent/connect/ca/roots"))
        {
#pragma warning disable CA1507 // Consul's JSON field name, not this class's property.
            cluster._trustDomain = (await roots.Content.ReadFromJsonAsync<JsonNode>())!["TrustDomain"]!.GetValue<string>();
#pragma warning restore CA1507
        }

        return cluster;
    }

    public override string AddressOf(string datacenter) => _address;

    public override async Task RegisterAsync(string datacenter, TestService service)
    {
        var body = new JsonObject
        {
            ["ID"] = service.Id,
            ["Name"] = service.Name,
            ["Address"] = service.Address,
            ["Port"] = service.Port,
        };
        if (service.Kind.Length > 0)
        {
            body["Kind"] = service.Kind;
        }

        if (service.Lan is not null || service.Wan is not null)
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

            body["TaggedAddresses"] = tagged;
        }

        if (service.Proxy is { } proxy)
        {
            body["Proxy"] = new JsonObject
            {
                ["DestinationServiceName"] = proxy.DestinationServiceName,
                ["DestinationServiceID"] = proxy.DestinationServiceId ?? proxy.DestinationServiceName,
                ["LocalServiceAddress"] = proxy.LocalServiceAddress,
                ["LocalServicePort"] = proxy.LocalServicePort,
                ["Upstreams"] = new JsonArray([.. proxy.Upstreams.Select(static u => (JsonNode)new JsonObject
                {
                    ["DestinationType"] = u.DestinationType,
                    ["DestinationName"] = u.DestinationName,
                    ["Datacenter"] = u.Datacenter,
                    ["LocalBindAddress"] = u.LocalBindAddress,
                    ["LocalBindPort"] = u.LocalBindPort,
                })]),
            };
        }

        using HttpResponseMessage response = await SendAsync(datacenter, HttpMethod.Put, "/v1/agent/service/register", body);
        _services.Add(service.Id);
    }

    public override async Task<string> SetIntentionAsync(string datacenter, string source, string destination, string action)
    {
        string pair = $"?source={Uri.EscapeDataString(source)}&destination={Uri.EscapeDataString(destination)}";
        using (await SendAsync(datacenter, HttpMethod.Put, "/v1/connect/intentions/exact" + pair, new JsonObject { ["SourceType"] = "consul", ["Action"] = action }))
        {
        }

        _intentions.Add((source, destination));
        using HttpResponseMessage read = await SendAsync(datacenter, HttpMethod.Get, "/v1/connect/intentions/exact" + pair);
        JsonNode intention = (await read.Content.ReadFromJsonAsync<JsonNode>())!;

        // Consul 1.9+ keeps intentions as config entries, which carry no ID.
        return intention["ID"]?.GetValue<string>() ?? string.Empty;
    }

    public override Task RotateLeafAsync(string datacenter, string service) => throw new NotSupportedException(CannotRotateLeaf);

    // Consul's built-in CA rotates when its configuration names a new private key: it generates a root for the key, cross-signs
    // it with the old one and keeps the old root trusted while every leaf is renewed.
    public override async Task RotateRootAsync()
    {
        JsonNode configuration;
        using (HttpResponseMessage read = await SendAsync(_datacenter, HttpMethod.Get, "/v1/connect/ca/configuration"))
        {
            configuration = (await read.Content.ReadFromJsonAsync<JsonNode>())!;
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        JsonObject config = configuration["Config"]?.AsObject() ?? [];
        config.Remove("RootCert");
        config["PrivateKey"] = key.ExportECPrivateKeyPem();
        config["PrivateKeyType"] = "ec";
        config["PrivateKeyBits"] = 256;
        var body = new JsonObject { ["Provider"] = configuration["Provider"]?.GetValue<string>() ?? "consul", ["Config"] = config.DeepClone() };
        using HttpResponseMessage response = await SendAsync(_datacenter, HttpMethod.Put, "/v1/connect/ca/configuration", body);
    }

    public override Task StopAgentsAsync() => throw new NotSupportedException(CannotStopAgents);

    public override Task StartAgentsAsync() => Task.CompletedTask;

    public override Task JoinDatacenterAsync(string datacenter, TestService gateway) => throw new NotSupportedException(CannotJoinDatacenter);

    public override async ValueTask DisposeAsync()
    {
        foreach (string id in _services)
        {
            using (await SendAsync(_datacenter, HttpMethod.Put, "/v1/agent/service/deregister/" + Uri.EscapeDataString(id)))
            {
            }
        }

        foreach ((string source, string destination) in _intentions)
        {
            using (await SendAsync(_datacenter, HttpMethod.Delete, $"/v1/connect/intentions/exact?source={Uri.EscapeDataString(source)}&destination={Uri.EscapeDataString(destination)}"))
            {
            }
        }

        await base.DisposeAsync();
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }
    }
}
