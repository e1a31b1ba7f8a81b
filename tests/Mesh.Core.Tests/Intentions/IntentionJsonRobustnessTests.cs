using System.Text;
using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

public sealed class IntentionJsonRobustnessTests
{
    private const string Entry = """
        [{ "Kind": "service-intentions", "Name": "api", "Meta": {"a_b": "c"},
          "Sources": [
            { "Name": "admin", "Action": "allow", "Description": "ops tool" },
            { "name": "web", "permissions": [
                { "action": "allow", "http": { "path_regex": "/v[0-9]+/.*", "methods": ["GET"],
                                               "header": [ { "name": "x-tenant", "exact": "t", "invert": true } ] } } ] } ] }]
        """;

    [Test]
    public void Every_truncation_and_random_corruption_either_loads_or_throws_the_validation_exception()
    {
        byte[] original = Encoding.UTF8.GetBytes(Entry);
        Assert.That(IntentionJson.ReadConfigEntries(original), Has.Count.EqualTo(2));

        for (int length = 0; length < original.Length; length++)
        {
            AssertLoadsOrRefuses(original.AsSpan(0, length).ToArray());
        }

        var random = new Random(11);
        byte[] alphabet = Encoding.ASCII.GetBytes("{}[]\":,_*/\\.0a-Z \n\u007f");
        for (int i = 0; i < 3000; i++)
        {
            byte[] mutated = (byte[])original.Clone();
            for (int flips = random.Next(1, 4); flips > 0; flips--)
            {
                mutated[random.Next(mutated.Length)] = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }

            AssertLoadsOrRefuses(mutated);
        }
    }

    [Test]
    public void Invalid_flat_list_intentions_are_refused_with_their_rule()
    {
        (string Json, IntentionValidationRule Rule)[] cases =
        [
            ("""[{"SourceName":"web","DestinationName":"api","SourceType":"external-uri","Action":"allow"}]""", IntentionValidationRule.Unsupported),
            ("""[{"SourceName":"web","DestinationName":"api","Action":"allow"},{"SourceName":"web","DestinationName":"api","Action":"deny"}]""", IntentionValidationRule.DuplicateSource),
            ("""[{"SourceName":"web","Action":"allow"}]""", IntentionValidationRule.NameRequired),
            ("""[{"SourceName":"web","DestinationName":"api"}]""", IntentionValidationRule.InvalidAction),
            ("""[{"SourceName":"web","SourceNS":"*","DestinationName":"api","Action":"allow"}]""", IntentionValidationRule.WildcardNamespaceRequiresWildcardName),
        ];
        foreach ((string json, IntentionValidationRule rule) in cases)
        {
            var e = Assert.Throws<IntentionValidationException>(() => IntentionJson.ReadIntentionList(json), json);
            Assert.That(e!.Rule, Is.EqualTo(rule), json);
        }
    }

    private static void AssertLoadsOrRefuses(byte[] json)
    {
        try
        {
            _ = new IntentionSet(IntentionJson.ReadConfigEntries(json));
        }
        catch (IntentionValidationException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{e.GetType().Name}: {e.Message} for {Encoding.UTF8.GetString(json)}");
        }
    }
}
