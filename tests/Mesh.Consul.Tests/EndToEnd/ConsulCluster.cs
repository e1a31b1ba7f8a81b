using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Mesh.Consul.TestAgent;

namespace Mesh.Consul.Tests.EndToEnd;

/// <summary>
/// The Consul cluster an end-to-end test drives through agents' HTTP APIs only: two federated test agents, or a real agent. What
/// a kind of cluster cannot do (rotate one leaf, stop its agent, federate a datacenter) it names, and the test is ignored.
/// </summary>
internal abstract class ConsulCluster : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The datacenter of the calling service (dashboard) and its gateway.</summary>
    public abstract string LocalDatacenter { get; }

    /// <summary>The datacenter of the called service (counting); the local one on a single-datacenter cluster.</summary>
    public abstract string RemoteDatacenter { get; }

    /// <summary>Whether the called service is in another datacenter, reached through both datacenters' mesh gateways.</summary>
    public bool Federated => RemoteDatacenter != LocalDatacenter;

    /// <summary>The trust domain of the cluster's CA.</summary>
    public abstract string TrustDomain { get; }

    /// <summary>The ACL token the hosts and the test send; null without ACLs.</summary>
    public virtual string? Token => null;

    /// <summary>Why a single leaf cannot be rotated on demand; null when it can.</summary>
    public abstract string? CannotRotateLeaf { get; }

    /// <summary>Why the agents cannot be stopped and started by the test; null when they can.</summary>
    public abstract string? CannotStopAgents { get; }

    /// <summary>Why a datacenter cannot join during the test; null when it can.</summary>
    public abstract string? CannotJoinDatacenter { get; }

    /// <summary>The HTTP address of the agent of a datacenter, as --consul takes it.</summary>
    public abstract string AddressOf(string datacenter);

    /// <summary>Registers a service instance with the agent of a datacenter.</summary>
    public abstract Task RegisterAsync(string datacenter, TestService service);

    /// <summary>Creates or updates the intention source → destination; returns its ID as Consul reports it (empty for a config entry).</summary>
    public abstract Task<string> SetIntentionAsync(string datacenter, string source, string destination, string action);

    /// <summary>Has the agent renew a service's leaf now.</summary>
    public abstract Task RotateLeafAsync(string datacenter, string service);

    /// <summary>Rotates the CA's root, the old one kept trusted (cross-signed) while the leaves are renewed under the new one.</summary>
    public abstract Task RotateRootAsync();

    /// <summary>Stops every agent (their blocking queries are cut).</summary>
    public abstract Task StopAgentsAsync();

    /// <summary>Starts every stopped agent again on the same address.</summary>
    public abstract Task StartAgentsAsync();

    /// <summary>Federates a new datacenter with a mesh gateway registered in it.</summary>
    public abstract Task JoinDatacenterAsync(string datacenter, TestService gateway);

    /// <summary>The serial of a service's current leaf as the agent reports it (<c>SerialNumber</c>), normalised to hex digits.</summary>
    public async Task<string> LeafSerialAsync(string datacenter, string service)
    {
        using JsonDocument leaf = await GetLeafAsync(datacenter, service);
        return NormalizeSerial(leaf.RootElement.GetProperty("SerialNumber").GetString()!);
    }

    /// <summary>A service's current leaf, with its key, from the agent (as a Connect-native caller would use it).</summary>
    public async Task<X509Certificate2> LeafCertificateAsync(string datacenter, string service)
    {
        using JsonDocument leaf = await GetLeafAsync(datacenter, service);
        string certificate = leaf.RootElement.GetProperty("CertPEM").GetString()!;
        string key = leaf.RootElement.GetProperty("PrivateKeyPEM").GetString()!;
        return X509Certificate2.CreateFromPem(certificate, key);
    }

    /// <summary>"3a:0f:..." or "3A0F..." as lower-case hex digits without leading zeros.</summary>
    public static string NormalizeSerial(string serial) =>
        serial.Replace(":", string.Empty, StringComparison.Ordinal).ToLowerInvariant().TrimStart('0');

    public virtual ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Sends a request to the agent of a datacenter with the token; fails with the agent's answer when it is not 2xx.</summary>
    protected async Task<HttpResponseMessage> SendAsync(string datacenter, HttpMethod method, string pathAndQuery, object? body = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(new Uri(AddressOf(datacenter)), pathAndQuery));
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (Token is not null)
        {
            request.Headers.Add("X-Consul-Token", Token);
        }

        HttpResponseMessage response = await _http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            string text = await response.Content.ReadAsStringAsync();
            response.Dispose();
            Assert.Fail($"{method} {pathAndQuery} on the agent of {datacenter}: {(int)response.StatusCode} {text}");
        }

        return response;
    }

    private async Task<JsonDocument> GetLeafAsync(string datacenter, string service)
    {
        using HttpResponseMessage response = await SendAsync(datacenter, HttpMethod.Get, "/v1/agent/connect/ca/leaf/" + Uri.EscapeDataString(service));
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync());
    }
}
