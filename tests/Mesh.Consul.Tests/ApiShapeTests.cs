using System.Text.Json;
using Mesh.Consul.TestAgent;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

/// <summary>
/// Compares the test agent's answers with HashiCorp's published example bodies (npm <c>@hashicorp/consul-api-double</c>, MPL-2.0):
/// every field of an example must exist in the test agent's answer with the same JSON type. Set <c>MESH_CONSUL_API_DOUBLE</c> to
/// the package's folder (…/node_modules/@hashicorp/consul-api-double); without it the tests report Inconclusive.
/// </summary>
public sealed class ApiShapeTests
{
    private const string Variable = "MESH_CONSUL_API_DOUBLE";

    [TestCase("v1/agent/connect/ca/roots", "/v1/agent/connect/ca/roots")]
    [TestCase("v1/agent/connect/ca/leaf/_", "/v1/agent/connect/ca/leaf/web")]
    [TestCase("v1/connect/intentions/match", "/v1/connect/intentions/match?by=destination&name=db")]
    public async Task Test_agent_answers_have_the_fields_and_types_of_Consuls_examples(string example, string endpoint)
    {
        string? root = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(root) || !File.Exists(Path.Combine(root, example)))
        {
            Assert.Inconclusive($"{Variable} is not set to a folder holding @hashicorp/consul-api-double; install it with: npm install --no-save --prefix <dir> @hashicorp/consul-api-double");
        }

        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.SetIntentions([new TestIntention("billing", "db", "deny"), new TestIntention("web", "db", "allow")]);
        using var http = new HttpClient { BaseAddress = new Uri(agent.Address) };
        using JsonDocument expected = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(root, example)));
        using JsonDocument actual = JsonDocument.Parse(await http.GetStringAsync(new Uri(endpoint, UriKind.Relative), Timeout()));

        var mismatches = new List<string>();
        Compare(expected.RootElement, actual.RootElement, "$", mismatches);

        Assert.That(mismatches, Is.Empty);
    }

    private static void Compare(JsonElement expected, JsonElement actual, string path, List<string> mismatches)
    {
        if (!SameKind(expected.ValueKind, actual.ValueKind))
        {
            mismatches.Add($"{path}: example is {expected.ValueKind}, test agent answers {actual.ValueKind}");
            return;
        }

        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (JsonProperty property in expected.EnumerateObject())
                {
                    // The match example is keyed by the destination name; compare it with the name the test agent was asked for.
                    if (actual.TryGetProperty(property.Name, out JsonElement value))
                    {
                        Compare(property.Value, value, $"{path}.{property.Name}", mismatches);
                    }
                    else if (!OptionalInConsul(property.Name))
                    {
                        mismatches.Add($"{path}.{property.Name}: missing");
                    }
                }

                break;
            case JsonValueKind.Array when expected.GetArrayLength() > 0 && actual.ValueKind == JsonValueKind.Array && actual.GetArrayLength() > 0:
                Compare(expected[0], actual[0], path + "[0]", mismatches);
                break;
        }
    }

    // Fields the examples carry from older Consul versions (pre-1.9 intention defaults).
    private static bool OptionalInConsul(string name) => name is "DefaultAddr" or "DefaultPort";

    private static bool SameKind(JsonValueKind expected, JsonValueKind actual) =>
        expected == actual
        || (expected is JsonValueKind.True or JsonValueKind.False && actual is JsonValueKind.True or JsonValueKind.False)
        || expected == JsonValueKind.Null || actual == JsonValueKind.Null;
}
