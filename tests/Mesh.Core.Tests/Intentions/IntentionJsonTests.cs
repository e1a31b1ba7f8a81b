using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

public sealed class IntentionJsonTests
{
    // The example entry of consul-semantics §5.
    private const string ApiEntry = """
        { "Kind": "service-intentions", "Name": "api",
          "Sources": [
            { "Name": "admin", "Action": "allow", "Description": "ops tool" },
            { "Name": "web", "Permissions": [
                { "Action": "deny",  "HTTP": { "PathPrefix": "/admin" } },
                { "Action": "allow", "HTTP": { "PathPrefix": "/v1", "Methods": ["GET", "HEAD"],
                                               "Header": [ { "Name": "x-tenant", "Present": true } ] } } ] },
            { "Name": "*", "Action": "deny" } ] }
        """;

    [Test]
    public void Reads_the_documented_entry_and_decides_with_it()
    {
        IReadOnlyList<Intention> intentions = IntentionJson.ReadConfigEntries(ApiEntry);
        Assert.That(intentions, Has.Count.EqualTo(3));
        Assert.Multiple(() =>
        {
            Assert.That(intentions[0].Source.Name, Is.EqualTo("admin"));
            Assert.That(intentions[0].Action, Is.EqualTo(IntentionAction.Allow));
            Assert.That(intentions[0].Description, Is.EqualTo("ops tool"));
            Assert.That(intentions[1].Permissions, Has.Count.EqualTo(2));
            Assert.That(intentions[1].Permissions[1].Http.Headers[0].Present, Is.True);
            Assert.That(intentions[2].Precedence, Is.EqualTo(8));
        });

        var set = new IntentionSet(intentions);
        var api = new ServiceName("api");
        var get = new IntentionHttpRequest("GET", "/v1/items", [KeyValuePair.Create("x-tenant", "t1")]);
        var noTenant = new IntentionHttpRequest("GET", "/v1/items");
        var admin = new IntentionHttpRequest("GET", "/admin");
        Assert.Multiple(() =>
        {
            Assert.That(set.Decide(new ServiceName("admin"), api).IsAllowed, Is.True);
            Assert.That(set.Decide(new ServiceName("other"), api).IsAllowed, Is.False);
            Assert.That(set.Decide(new ServiceName("web"), api).IsAllowed, Is.False, "L7 intention on an L4 connection");
            Assert.That(set.DecideHttp(new ServiceName("web"), api, ref get).IsAllowed, Is.True);
            Assert.That(set.DecideHttp(new ServiceName("web"), api, ref noTenant).IsAllowed, Is.False);
            Assert.That(set.DecideHttp(new ServiceName("web"), api, ref admin).IsAllowed, Is.False);
        });
    }

    [Test]
    public void Reads_snake_case_keys_a_list_of_entries_and_leaves_meta_keys_alone()
    {
        const string json = """
            [ { "kind": "service-intentions", "name": "api", "namespace": "team1", "meta": { "owner_team": "blue" },
                "sources": [ { "name": "web", "permissions": [ { "action": "allow",
                    "http": { "path_prefix": "/v1", "methods": ["get"], "header": [ { "name": "x-a", "exact": "1", "invert": true } ] } } ] } ] },
              { "Kind": "service-intentions", "Name": "db",
                "Sources": [ { "Name": "api", "Namespace": "team1", "Action": "allow", "legacy_id": "f00", "legacy_meta": { "some_key": "v" } } ] } ]
            """;
        IReadOnlyList<Intention> intentions = IntentionJson.ReadConfigEntries(json);
        Assert.Multiple(() =>
        {
            Assert.That(intentions, Has.Count.EqualTo(2));
            Assert.That(intentions[0].Destination, Is.EqualTo(new IntentionDestination("api", "team1")));
            Assert.That(intentions[0].Permissions[0].Http.PathPrefix, Is.EqualTo("/v1"));
            Assert.That(intentions[0].Permissions[0].Http.Methods, Is.EqualTo(new[] { "GET" }));
            Assert.That(intentions[0].Permissions[0].Http.Headers[0].Invert, Is.True);
            Assert.That(intentions[0].Meta["owner_team"], Is.EqualTo("blue"));
            Assert.That(intentions[1].Id, Is.EqualTo("f00"));
            Assert.That(intentions[1].Action, Is.EqualTo(IntentionAction.Allow));
            Assert.That(intentions[1].Meta["some_key"], Is.EqualTo("v"));
            Assert.That(intentions[1].Source.Namespace, Is.EqualTo("team1"));
        });
    }

    [Test]
    public void Config_entries_round_trip()
    {
        IReadOnlyList<Intention> first = IntentionJson.ReadConfigEntries(ApiEntry);
        string written = IntentionJson.WriteConfigEntries(first);
        IReadOnlyList<Intention> second = IntentionJson.ReadConfigEntries(written);
        Assert.That(written, Does.Contain("\"Kind\": \"service-intentions\"").And.Contain("\"PathPrefix\": \"/admin\"").And.Contain("\"Precedence\": 9"));
        Assert.That(Describe(second), Is.EqualTo(Describe(first)));
    }

    [Test]
    public void Reads_and_writes_the_flat_intention_list()
    {
        const string json = """
            [ { "ID": "7a3d", "Description": "", "SourceNS": "default", "SourceName": "web", "DestinationNS": "default", "DestinationName": "db",
                "SourcePartition": "default", "DestinationPartition": "default", "SourceType": "consul", "Action": "allow", "Meta": {},
                "Precedence": 9, "CreatedAt": "2024-01-01T00:00:00Z", "UpdatedAt": "2024-01-01T00:00:00Z", "CreateIndex": 10, "ModifyIndex": 10 },
              { "SourceNS": "default", "SourceName": "*", "DestinationNS": "default", "DestinationName": "api", "SourceType": "consul",
                "Permissions": [ { "Action": "deny", "HTTP": { "PathExact": "/x" } } ], "Precedence": 8 } ]
            """;
        IReadOnlyList<Intention> intentions = IntentionJson.ReadIntentionList(json);
        Assert.Multiple(() =>
        {
            Assert.That(intentions[0].Id, Is.EqualTo("7a3d"));
            Assert.That(intentions[0].Action, Is.EqualTo(IntentionAction.Allow));
            Assert.That(intentions[1].Source.IsWildcardName, Is.True);
            Assert.That(intentions[1].HasPermissions, Is.True);
        });

        IReadOnlyList<Intention> again = IntentionJson.ReadIntentionList(IntentionJson.WriteIntentionList(intentions));
        Assert.That(Describe(again), Is.EqualTo(Describe(intentions)));
    }

    [Test]
    public void Malformed_json_is_reported_as_such()
    {
        foreach (string json in new[] { "", "{", "[1,", "{\"Name\": }", "{\"Name\": 5, \"Sources\": []}", "{\"Name\": \"api\", \"Surces\": []}", "[null]", "nul" })
        {
            var e = Assert.Throws<IntentionValidationException>(() => IntentionJson.ReadConfigEntries(json), json);
            Assert.That(e!.Rule, Is.EqualTo(IntentionValidationRule.MalformedJson), json);
        }

        Assert.That(Assert.Throws<IntentionValidationException>(() => IntentionJson.ReadIntentionList("{}"))!.Rule, Is.EqualTo(IntentionValidationRule.MalformedJson));
    }

    [Test]
    public void Each_invalid_entry_gives_its_rule_naming_entry_and_source()
    {
        (string Json, IntentionValidationRule Rule, string Field)[] cases =
        [
            ("""{"Kind":"service-defaults","Name":"api","Sources":[{"Name":"web","Action":"allow"}]}""", IntentionValidationRule.WrongKind, "Kind"),
            ("""{"Sources":[{"Name":"web","Action":"allow"}]}""", IntentionValidationRule.NameRequired, "Name"),
            ("""{"Name":"api"}""", IntentionValidationRule.SourcesRequired, "Sources"),
            ("""{"Name":"api","Sources":[]}""", IntentionValidationRule.SourcesRequired, "Sources"),
            ("""{"Name":"api","Sources":[{"Action":"allow"}]}""", IntentionValidationRule.SourceNameRequired, "Sources[0].Name"),
            ("""{"Name":"api","Sources":[{"Name":"web"}]}""", IntentionValidationRule.InvalidAction, "Sources[0].Action"),
            ("""{"Name":"api","Sources":[{"Name":"web","Action":"permit"}]}""", IntentionValidationRule.InvalidAction, "Sources[0].Action"),
            ("""{"Name":"api","Sources":[{"Name":"web","Action":"allow","Permissions":[{"Action":"allow","HTTP":{"PathPrefix":"/"}}]}]}""", IntentionValidationRule.ActionWithPermissions, "Sources[0].Action"),
            ("""{"Name":"*","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathPrefix":"/"}}]}]}""", IntentionValidationRule.PermissionsOnWildcardDestination, "Sources[0].Permissions"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"HTTP":{"PathPrefix":"/"}}]}]}""", IntentionValidationRule.InvalidPermissionAction, "Sources[0].Permissions[0].Action"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow"}]}]}""", IntentionValidationRule.EmptyHttpPermission, "Sources[0].Permissions[0].HTTP"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{}}]}]}""", IntentionValidationRule.EmptyHttpPermission, "Sources[0].Permissions[0].HTTP"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathPrefix":"v1"}}]}]}""", IntentionValidationRule.PathMustStartWithSlash, "Sources[0].Permissions[0].HTTP.PathPrefix"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathExact":"x"}}]}]}""", IntentionValidationRule.PathMustStartWithSlash, "Sources[0].Permissions[0].HTTP.PathExact"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathExact":"/a","PathPrefix":"/b"}}]}]}""", IntentionValidationRule.MultiplePathMatchers, "Sources[0].Permissions[0].HTTP"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Header":[{"Present":true}]}}]}]}""", IntentionValidationRule.HeaderNameRequired, "Sources[0].Permissions[0].HTTP.Header[0]"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Header":[{"Name":"x"}]}}]}]}""", IntentionValidationRule.HeaderMatcherKind, "Sources[0].Permissions[0].HTTP.Header[0]"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Header":[{"Name":"x","Exact":"a","Prefix":"b"}]}}]}]}""", IntentionValidationRule.HeaderMatcherKind, "Sources[0].Permissions[0].HTTP.Header[0]"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Methods":["FETCH"]}}]}]}""", IntentionValidationRule.InvalidMethod, "Sources[0].Permissions[0].HTTP.Methods[0]"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Methods":["GET","get"]}}]}]}""", IntentionValidationRule.DuplicateMethod, "Sources[0].Permissions[0].HTTP.Methods[1]"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"PathRegex":"/(?=x)"}}]}]}""", IntentionValidationRule.RegexNotRe2, "Sources[0].Permissions[0].HTTP.PathRegex"),
            ("""{"Name":"api","Sources":[{"Name":"web","Permissions":[{"Action":"allow","HTTP":{"Header":[{"Name":"x","Regex":"(a)\\1"}]}}]}]}""", IntentionValidationRule.RegexNotRe2, "Sources[0].Permissions[0].HTTP.Header[0].Regex"),
            ("""{"Name":"api","Sources":[{"Name":"web","Action":"allow"},{"Name":"web","Action":"deny"}]}""", IntentionValidationRule.DuplicateSource, "Sources[1]"),
            ("""{"Name":"api","Sources":[{"Name":"web","Namespace":"*","Action":"allow"}]}""", IntentionValidationRule.WildcardNamespaceRequiresWildcardName, "Sources[0].Name"),
            ("""{"Name":"api","Sources":[{"Name":"web*","Action":"allow"}]}""", IntentionValidationRule.PartialWildcard, "Sources[0].Name"),
            ("""{"Name":"api","Sources":[{"Name":"web","Partition":"*","Action":"allow"}]}""", IntentionValidationRule.WildcardPartitionOrPeer, "Sources[0].Partition"),
            ("""{"Name":"api","Sources":[{"Name":"web","Peer":"*","Action":"allow"}]}""", IntentionValidationRule.WildcardPartitionOrPeer, "Sources[0].Peer"),
            ("""{"Name":"api","Namespace":"*","Sources":[{"Name":"web","Action":"allow"}]}""", IntentionValidationRule.WildcardNamespaceRequiresWildcardName, "Name"),
            ("""{"Name":"api.v2","Sources":[{"Name":"web","Action":"allow"}]}""", IntentionValidationRule.InvalidName, "Name"),
            ($$"""{"Name":"api","Sources":[{"Name":"web","Action":"allow","Description":"{{new string('d', 513)}}"}]}""", IntentionValidationRule.DescriptionTooLong, "Sources[0].Description"),
            ("""{"Name":"api","Sources":[{"Name":"web","Action":"allow","Type":"external-uri"}]}""", IntentionValidationRule.Unsupported, "Sources[0].Type"),
            ("""{"Name":"api","JWT":{"Providers":[]},"Sources":[{"Name":"web","Action":"allow"}]}""", IntentionValidationRule.Unsupported, "JWT"),
            ("""[{"Name":"api","Sources":[{"Name":"web","Action":"allow"}]},{"Name":"api","Sources":[{"Name":"db","Action":"allow"}]}]""", IntentionValidationRule.DuplicateDestination, ""),
        ];

        foreach ((string json, IntentionValidationRule rule, string field) in cases)
        {
            var e = Assert.Throws<IntentionValidationException>(() => IntentionJson.ReadConfigEntries(json), json);
            Assert.Multiple(() =>
            {
                Assert.That(e!.Rule, Is.EqualTo(rule), json);
                Assert.That(e.Field, Is.EqualTo(field), json);
                Assert.That(e.Message, Does.StartWith("service-intentions '"), json);
                if (field.StartsWith("Sources[", StringComparison.Ordinal))
                {
                    Assert.That(e.SourceName, Is.Not.Null, json);
                    Assert.That(e.Message, Does.Contain($"source '{e.SourceName}'"), json);
                }
            });
        }
    }

    [Test]
    public void Description_of_exactly_512_characters_is_accepted()
    {
        string json = $$"""{"Name":"api","Sources":[{"Name":"web","Action":"allow","Description":"{{new string('d', 512)}}"}]}""";
        Assert.That(IntentionJson.ReadConfigEntries(json)[0].Description, Has.Length.EqualTo(512));
    }

    [Test]
    public void A_document_with_one_bad_entry_loads_nothing()
    {
        const string json = """[{"Name":"api","Sources":[{"Name":"web","Action":"allow"}]},{"Name":"db","Sources":[{"Name":"web","Action":"maybe"}]}]""";
        var e = Assert.Throws<IntentionValidationException>(() => IntentionJson.ReadConfigEntries(json));
        Assert.That(e!.EntryName, Is.EqualTo("db"));
        Assert.That(e.Message, Is.EqualTo("service-intentions 'db', source 'web', Sources[0].Action: 'maybe' is not 'allow' or 'deny' (rule InvalidAction)."));
    }

    private static string[] Describe(IEnumerable<Intention> intentions) =>
        intentions.Select(i => $"{i} desc={i.Description} meta={string.Join(",", i.Meta.Select(m => m.Key + "=" + m.Value))} " +
            string.Join(";", i.Permissions.Select(p => $"{p.Action} {p.Http.PathExact}|{p.Http.PathPrefix}|{p.Http.PathRegex}|{string.Join(",", p.Http.Methods)}|" +
                string.Join(",", p.Http.Headers.Select(h => $"{h.Name}:{h.Present}:{h.Exact}:{h.Prefix}:{h.Suffix}:{h.Regex}:{h.Invert}"))))).ToArray();
}
