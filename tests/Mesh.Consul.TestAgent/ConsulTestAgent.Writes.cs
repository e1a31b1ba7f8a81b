using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Mesh.Consul.TestAgent;

/// <summary>
/// The write side of the agent API a test drives a real Consul through: <c>GET /v1/agent/self</c>,
/// <c>PUT /v1/agent/service/register</c> and <c>/deregister/&lt;id&gt;</c>, <c>/v1/connect/intentions/exact</c> (PUT, GET, DELETE;
/// intentions kept as config entries, without an ID, as Consul 1.9+ does) and <c>/v1/connect/ca/configuration</c> (a new
/// <c>PrivateKey</c> rotates the root). With them the real-agent test fixture runs against a test agent too.
/// </summary>
public sealed partial class ConsulTestAgent
{
    private string? _caPrivateKey;

    private async Task<bool> TryWriteApiAsync(HttpContext context, string path)
    {
        HttpRequest request = context.Request;
        const string DeregisterPath = "/v1/agent/service/deregister/";
        switch (request.Method)
        {
            case "GET" when path == "/v1/agent/self":
                await Json(context, new JsonObject
                {
                    ["Config"] = new JsonObject { ["Datacenter"] = Datacenter, ["NodeName"] = "node-1", ["Server"] = true, ["Version"] = "1.17.0" },
                    ["Member"] = new JsonObject { ["Name"] = "node-1", ["Addr"] = "127.0.0.1", ["Port"] = 8301 },
                }, null).ConfigureAwait(false);
                return true;
            case "PUT" when path == "/v1/agent/service/register":
                JsonNode? body = await JsonNode.ParseAsync(request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
                Register(ServiceFromRegistration(body ?? new JsonObject()));
                await Text(context, 200, string.Empty).ConfigureAwait(false);
                return true;
            case "PUT" when path.StartsWith(DeregisterPath, StringComparison.Ordinal):
                Deregister(Uri.UnescapeDataString(path[DeregisterPath.Length..]));
                await Text(context, 200, string.Empty).ConfigureAwait(false);
                return true;
            case "PUT" or "GET" or "DELETE" when path == "/v1/connect/intentions/exact":
                await IntentionExactAsync(context).ConfigureAwait(false);
                return true;
            case "GET" or "PUT" when path == "/v1/connect/ca/configuration":
                await CaConfigurationAsync(context).ConfigureAwait(false);
                return true;
            default:
                return false;
        }
    }

    private async Task IntentionExactAsync(HttpContext context)
    {
        string source = context.Request.Query["source"].FirstOrDefault() ?? string.Empty;
        string destination = context.Request.Query["destination"].FirstOrDefault() ?? string.Empty;
        if (source.Length == 0 || destination.Length == 0)
        {
            await Text(context, 400, "required query parameter 'source' and 'destination' not set").ConfigureAwait(false);
            return;
        }

        TestIntention? existing;
        lock (_lock)
        {
            existing = _intentions.FirstOrDefault(i => i.SourceName == source && i.DestinationName == destination);
        }

        switch (context.Request.Method)
        {
            case "PUT":
                JsonNode? body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
                string? action = body?["Action"]?.GetValue<string>();
                if (action is not ("allow" or "deny"))
                {
                    await Text(context, 400, "Intention must have an Action of 'allow' or 'deny'").ConfigureAwait(false);
                    return;
                }

                TestIntention updated = existing is null ? new TestIntention(source, destination, action) { Id = string.Empty } : existing with { Action = action };
                SetIntentions([.. IntentionsWithout(existing), updated]);
                await Json(context, JsonValue.Create(true), null).ConfigureAwait(false);
                return;
            case "DELETE":
                SetIntentions(IntentionsWithout(existing));
                await Json(context, JsonValue.Create(true), null).ConfigureAwait(false);
                return;
            default:
                if (existing is null)
                {
                    await Text(context, 404, "Intention not found").ConfigureAwait(false);
                    return;
                }

                await Json(context, new JsonObject
                {
                    ["ID"] = existing.Id,
                    ["SourceNS"] = existing.SourceNamespace,
                    ["SourceName"] = existing.SourceName,
                    ["DestinationNS"] = existing.DestinationNamespace,
                    ["DestinationName"] = existing.DestinationName,
                    ["SourceType"] = "consul",
                    ["Action"] = existing.Action,
                    ["Precedence"] = existing.Precedence,
                }, null).ConfigureAwait(false);
                return;
        }
    }

    private List<TestIntention> IntentionsWithout(TestIntention? intention)
    {
        lock (_lock)
        {
            return [.. _intentions.Where(i => !ReferenceEquals(i, intention))];
        }
    }

    private async Task CaConfigurationAsync(HttpContext context)
    {
        if (context.Request.Method == "PUT")
        {
            JsonNode? body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            string? key = body?["Config"]?["PrivateKey"]?.GetValue<string>();

            // Consul's built-in provider rotates to a root made for a private key it has not used yet.
            if (!string.IsNullOrEmpty(key) && key != _caPrivateKey)
            {
                _caPrivateKey = key;
                RotateRoot();
            }

            await Text(context, 200, string.Empty).ConfigureAwait(false);
            return;
        }

        ulong index = IndexOf("roots");
        await Json(context, new JsonObject
        {
            ["Provider"] = "consul",
            ["Config"] = new JsonObject
            {
                ["LeafCertTTL"] = "72h",
                ["IntermediateCertTTL"] = "8760h",
                ["RootCertTTL"] = "87600h",
                ["PrivateKeyType"] = "ec",
                ["PrivateKeyBits"] = 256,
            },
            ["ForceWithoutCrossSigning"] = false,
            ["CreateIndex"] = index,
            ["ModifyIndex"] = index,
        }, null).ConfigureAwait(false);
    }

    // The fields of Consul's service definition (agent/service/register) that the catalog answers carry back.
    private static TestService ServiceFromRegistration(JsonNode json)
    {
        string name = json["Name"]?.GetValue<string>() ?? string.Empty;
        int port = json["Port"]?.GetValue<int>() ?? 0;
        JsonNode? proxy = json["Proxy"];
        return new TestService(json["ID"]?.GetValue<string>() ?? name, name, port)
        {
            Kind = json["Kind"]?.GetValue<string>() ?? string.Empty,
            Address = json["Address"]?.GetValue<string>() ?? string.Empty,
            ConnectNative = json["Connect"]?["Native"]?.GetValue<bool>() ?? false,
            Lan = TaggedAddress(json["TaggedAddresses"]?["lan"]),
            Wan = TaggedAddress(json["TaggedAddresses"]?["wan"]),
            Proxy = proxy is null ? null : new TestProxy(proxy["DestinationServiceName"]?.GetValue<string>() ?? string.Empty, proxy["LocalServicePort"]?.GetValue<int>() ?? 0)
            {
                DestinationServiceId = proxy["DestinationServiceID"]?.GetValue<string>(),
                LocalServiceAddress = proxy["LocalServiceAddress"]?.GetValue<string>() ?? "127.0.0.1",
                MeshGatewayMode = proxy["MeshGateway"]?["Mode"]?.GetValue<string>() ?? string.Empty,
                Upstreams = [.. (proxy["Upstreams"]?.AsArray() ?? []).OfType<JsonNode>().Select(static u => new TestUpstream(
                    u["DestinationName"]?.GetValue<string>() ?? string.Empty,
                    u["LocalBindPort"]?.GetValue<int>() ?? 0)
                {
                    DestinationType = u["DestinationType"]?.GetValue<string>() ?? "service",
                    Datacenter = u["Datacenter"]?.GetValue<string>() ?? string.Empty,
                    LocalBindAddress = u["LocalBindAddress"]?.GetValue<string>() ?? string.Empty,
                    MeshGatewayMode = u["MeshGateway"]?["Mode"]?.GetValue<string>() ?? string.Empty,
                })],
            },
        };
    }

    private static TestAddress? TaggedAddress(JsonNode? json) =>
        json is null ? null : new TestAddress(json["Address"]?.GetValue<string>() ?? string.Empty, json["Port"]?.GetValue<int>() ?? 0);
}
