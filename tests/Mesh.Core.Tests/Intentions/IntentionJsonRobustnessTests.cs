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

    [Test]
    public void Every_mutation_of_a_flat_list_or_an_entry_with_non_ascii_bytes_loads_or_throws_the_validation_exception()
    {
        byte[][] originals =
        [
            Encoding.UTF8.GetBytes("""
                [ { "ID": "7a3d", "SourceNS": "default", "SourceName": "web", "DestinationNS": "ns1", "DestinationName": "db", "SourcePartition": "default",
                    "DestinationPartition": "default", "SourceType": "consul", "Action": "allow", "Meta": { "k": "v" }, "Precedence": 9 },
                  { "SourceName": "*", "DestinationName": "api", "Permissions": [ { "Action": "deny", "HTTP": { "PathRegex": "/[a-z]{1,8}", "Methods": ["GET"] } } ] } ]
                """),
            Encoding.UTF8.GetBytes(Entry),
        ];
        var random = new Random(23);
        foreach (byte[] original in originals)
        {
            bool isList = original == originals[0];
            for (int i = 0; i < 3000; i++)
            {
                byte[] mutated = (byte[])original.Clone();
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    // Bytes of multi-byte sequences, continuation bytes and invalid lead bytes: invalid UTF-8 inside strings and keys.
                    mutated[random.Next(mutated.Length)] = (byte)(0x80 | random.Next(0x80));
                }

                if (isList)
                {
                    AssertListLoadsOrRefuses(mutated);
                }
                else
                {
                    AssertLoadsOrRefuses(mutated);
                }
            }
        }
    }

    private static void AssertListLoadsOrRefuses(byte[] json)
    {
        try
        {
            _ = new IntentionSet(IntentionJson.ReadIntentionList(json));
        }
        catch (IntentionValidationException)
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{e.GetType().Name}: {e.Message} for {Encoding.UTF8.GetString(json)}");
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
