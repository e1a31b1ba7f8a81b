using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

public sealed class L7DecisionTests
{
    private static readonly ServiceName Web = new("web");
    private static readonly ServiceName Api = new("api");

    private static IntentionSet Set(IntentionAction defaultAction, params IntentionPermission[] permissions) =>
        new([new Intention(new IntentionSource("web"), new IntentionDestination("api"), permissions)], defaultAction);

    private static IntentionDecision Http(IntentionSet set, string method, string target, params (string Name, string Value)[] headers)
    {
        var request = new IntentionHttpRequest(method, target, headers.Select(h => KeyValuePair.Create(h.Name, h.Value)).ToArray());
        return set.DecideHttp(Web, Api, ref request);
    }

    private static IntentionPermission Allow(IntentionHttpMatch http) => new(IntentionAction.Allow, http);

    private static IntentionPermission Deny(IntentionHttpMatch http) => new(IntentionAction.Deny, http);

    [Test]
    public void A_deny_permission_under_default_allow_denies_only_what_it_matches()
    {
        var set = Set(IntentionAction.Allow, Deny(new IntentionHttpMatch { PathPrefix = "/admin" }));
        IntentionDecision admin = Http(set, "GET", "/admin/users");
        IntentionDecision other = Http(set, "GET", "/v1/items");
        Assert.Multiple(() =>
        {
            Assert.That(admin.IsAllowed, Is.False);
            Assert.That(admin.Reason, Is.EqualTo(IntentionDecisionReason.MatchedPermission));
            Assert.That(admin.PermissionIndex, Is.Zero);
            Assert.That(other.IsAllowed, Is.True, "nothing matched: the default (allow) decides, not a lower intention");
            Assert.That(other.Reason, Is.EqualTo(IntentionDecisionReason.NoPermissionMatched));
            Assert.That(other.DecidedByDefault, Is.True);
        });
    }

    [Test]
    public void No_permission_matching_falls_to_the_default_not_to_a_lower_intention()
    {
        var l7 = new Intention(new IntentionSource("web"), new IntentionDestination("api"), [Allow(new IntentionHttpMatch { PathPrefix = "/v1/" })]);
        var allowAll = new Intention(new IntentionSource("*"), new IntentionDestination("api"), IntentionAction.Allow);
        var set = new IntentionSet([l7, allowAll]);
        var request = new IntentionHttpRequest("GET", "/v2/x");
        Assert.That(set.DecideHttp(Web, Api, ref request).IsAllowed, Is.False);
    }

    [Test]
    public void Permissions_are_tried_in_list_order_and_the_first_match_wins()
    {
        var set = Set(IntentionAction.Deny,
            Deny(new IntentionHttpMatch { PathPrefix = "/v1/admin" }),
            Allow(new IntentionHttpMatch { PathPrefix = "/v1" }));
        Assert.Multiple(() =>
        {
            Assert.That(Http(set, "GET", "/v1/admin/x").IsAllowed, Is.False);
            Assert.That(Http(set, "GET", "/v1/items").IsAllowed, Is.True);
            Assert.That(Http(set, "GET", "/v1/items").PermissionIndex, Is.EqualTo(1));
        });
    }

    [Test]
    public void PathPrefix_is_a_plain_string_prefix_so_v1_matches_v1foo()
    {
        var set = Set(IntentionAction.Deny, Allow(new IntentionHttpMatch { PathPrefix = "/v1" }));
        Assert.Multiple(() =>
        {
            Assert.That(Http(set, "GET", "/v1foo").IsAllowed, Is.True);
            Assert.That(Http(set, "GET", "/v1/").IsAllowed, Is.True);
            Assert.That(Http(set, "GET", "/v2").IsAllowed, Is.False);
        });
    }

    [Test]
    public void PathExact_ignores_the_query_and_fragment()
    {
        var set = Set(IntentionAction.Deny, Allow(new IntentionHttpMatch { PathExact = "/health" }));
        Assert.Multiple(() =>
        {
            Assert.That(Http(set, "GET", "/health?verbose=1").IsAllowed, Is.True);
            Assert.That(Http(set, "GET", "/health#x").IsAllowed, Is.True);
            Assert.That(Http(set, "GET", "/health/x").IsAllowed, Is.False);
            Assert.That(Http(set, "GET", "/healthz").IsAllowed, Is.False);
        });
    }

    [Test]
    public void Path_tricks_cannot_bypass_a_deny_on_admin()
    {
        var set = Set(IntentionAction.Allow, Deny(new IntentionHttpMatch { PathPrefix = "/admin" }));
        string[] bypasses = ["/admin", "//admin", "///admin/x", "/v1/../admin", "/./admin", "/%2e%2e/admin", "/v1/%2E%2E/admin", "/%2e/admin",
            "/v1%2f..%2fadmin", "/v1%2F..%2Fadmin", "/v1\\..\\admin", "/v1%5c..%5cadmin", "/%61dmin", "/x/../../admin"];
        foreach (string target in bypasses)
        {
            Assert.That(Http(set, "GET", target).IsAllowed, Is.False, target);
        }

        Assert.That(Http(set, "GET", "/admin/../v1").IsAllowed, Is.True, "/admin/../v1 is /v1");
        Assert.That(Http(set, "GET", "/v1/admin").IsAllowed, Is.True);
    }

    [Test]
    public void A_path_that_cannot_be_normalised_is_denied_even_under_default_allow()
    {
        var set = Set(IntentionAction.Allow, Deny(new IntentionHttpMatch { PathPrefix = "/admin" }));
        foreach (string target in new[] { "/admin%zz", "/a%2", "admin", "", "*" })
        {
            IntentionDecision decision = Http(set, "GET", target);
            Assert.That(decision.IsAllowed, Is.False, target);
            Assert.That(decision.Reason, Is.EqualTo(IntentionDecisionReason.InvalidRequestPath), target);
        }
    }

    [Test]
    public void Methods_match_exactly_after_upper_casing_the_configuration()
    {
        var set = Set(IntentionAction.Deny, Allow(new IntentionHttpMatch { PathPrefix = "/", Methods = ["get", "HEAD"] }));
        Assert.Multiple(() =>
        {
            Assert.That(set.Intentions[0].Permissions[0].Http.Methods, Is.EqualTo(new[] { "GET", "HEAD" }));
            Assert.That(Http(set, "GET", "/").IsAllowed, Is.True);
            Assert.That(Http(set, "HEAD", "/").IsAllowed, Is.True);
            Assert.That(Http(set, "POST", "/").IsAllowed, Is.False);
            Assert.That(Http(set, "get", "/").IsAllowed, Is.False, "HTTP methods are case-sensitive (RFC 9110 §9.1)");
        });
    }

    [Test]
    public void Header_matchers_with_invert_and_missing_headers()
    {
        IntentionSet With(IntentionHeaderMatch header) => Set(IntentionAction.Deny, Allow(new IntentionHttpMatch { Headers = [header] }));
        var present = With(new IntentionHeaderMatch { Name = "x-tenant", Present = true });
        var absent = With(new IntentionHeaderMatch { Name = "x-tenant", Present = true, Invert = true });
        var exact = With(new IntentionHeaderMatch { Name = "x-tenant", Exact = "blue" });
        var notExact = With(new IntentionHeaderMatch { Name = "x-tenant", Exact = "blue", Invert = true });
        var prefix = With(new IntentionHeaderMatch { Name = "x-tenant", Prefix = "bl" });
        var suffix = With(new IntentionHeaderMatch { Name = "x-tenant", Suffix = "ue" });
        var regex = With(new IntentionHeaderMatch { Name = "x-tenant", Regex = "b[a-z]+" });
        Assert.Multiple(() =>
        {
            Assert.That(Http(present, "GET", "/", ("X-Tenant", "")).IsAllowed, Is.True, "names compare without case; an empty value is present");
            Assert.That(Http(present, "GET", "/").IsAllowed, Is.False);
            Assert.That(Http(absent, "GET", "/").IsAllowed, Is.True, "inverted Present matches a missing header");
            Assert.That(Http(absent, "GET", "/", ("x-tenant", "blue")).IsAllowed, Is.False);
            Assert.That(Http(exact, "GET", "/", ("x-tenant", "blue")).IsAllowed, Is.True);
            Assert.That(Http(exact, "GET", "/", ("x-tenant", "Blue")).IsAllowed, Is.False);
            Assert.That(Http(notExact, "GET", "/", ("x-tenant", "red")).IsAllowed, Is.True);
            Assert.That(Http(notExact, "GET", "/", ("x-tenant", "blue")).IsAllowed, Is.False);
            Assert.That(Http(notExact, "GET", "/").IsAllowed, Is.False, "a value matcher never matches a missing header, inverted or not");
            Assert.That(Http(prefix, "GET", "/", ("x-tenant", "blue")).IsAllowed, Is.True);
            Assert.That(Http(suffix, "GET", "/", ("x-tenant", "blue")).IsAllowed, Is.True);
            Assert.That(Http(suffix, "GET", "/", ("x-tenant", "blues")).IsAllowed, Is.False);
            Assert.That(Http(regex, "GET", "/", ("x-tenant", "blue")).IsAllowed, Is.True);
            Assert.That(Http(regex, "GET", "/", ("x-tenant", "blue\n")).IsAllowed, Is.False, "whole-value match: no match before a final newline");
            Assert.That(Http(regex, "GET", "/", ("x-tenant", "xblue")).IsAllowed, Is.False, "anchored at the start");
        });
    }

    [Test]
    public void Multi_valued_headers_are_matched_joined_with_commas()
    {
        IntentionSet With(IntentionHeaderMatch header) => Set(IntentionAction.Deny, Allow(new IntentionHttpMatch { Headers = [header] }));
        var exact = With(new IntentionHeaderMatch { Name = "x-role", Exact = "reader,writer" });
        var firstOnly = With(new IntentionHeaderMatch { Name = "x-role", Exact = "reader" });
        var suffix = With(new IntentionHeaderMatch { Name = "x-role", Suffix = "writer" });
        var longValue = new string('a', 600);
        var regex = With(new IntentionHeaderMatch { Name = "x-role", Regex = "a+,b" });
        Assert.Multiple(() =>
        {
            Assert.That(Http(exact, "GET", "/", ("x-role", "reader"), ("X-Role", "writer")).IsAllowed, Is.True);
            Assert.That(Http(firstOnly, "GET", "/", ("x-role", "reader"), ("x-role", "writer")).IsAllowed, Is.False, "not matched per value");
            Assert.That(Http(suffix, "GET", "/", ("x-role", "reader"), ("x-role", "writer")).IsAllowed, Is.True);
            Assert.That(Http(regex, "GET", "/", ("x-role", longValue), ("x-role", "b")).IsAllowed, Is.True, "joined values longer than the stack buffer");
        });
    }

    [Test]
    public void An_l4_intention_decides_http_requests_by_its_action()
    {
        var set = new IntentionSet([new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Allow)]);
        var request = new IntentionHttpRequest("DELETE", "/anything");
        IntentionDecision decision = set.DecideHttp(Web, Api, ref request);
        Assert.That(decision.IsAllowed, Is.True);
        Assert.That(decision.Reason, Is.EqualTo(IntentionDecisionReason.MatchedL4Intention));
    }

    [Test]
    public void Path_regex_is_anchored_and_sees_the_normalised_path()
    {
        var set = Set(IntentionAction.Deny, Allow(new IntentionHttpMatch { PathRegex = @"/v[0-9]+/items/\d+" }));
        Assert.Multiple(() =>
        {
            Assert.That(Http(set, "GET", "/v1/items/42").IsAllowed, Is.True);
            Assert.That(Http(set, "GET", "/v1/items/42?x").IsAllowed, Is.True);
            Assert.That(Http(set, "GET", "//v1/./items/42").IsAllowed, Is.True);
            Assert.That(Http(set, "GET", "/v1/items/42/x").IsAllowed, Is.False);
            Assert.That(Http(set, "GET", "/x/v1/items/42").IsAllowed, Is.False);
            Assert.That(Http(set, "GET", "/v1/items/\u0663").IsAllowed, Is.False, @"\d is ASCII in RE2");
        });
    }

    [Test]
    public void Long_targets_use_a_pooled_buffer()
    {
        var set = Set(IntentionAction.Deny, Allow(new IntentionHttpMatch { PathPrefix = "/v1/" }));
        string longPath = "/v1/" + new string('x', 5000) + "/../y";
        Assert.That(Http(set, "GET", longPath).IsAllowed, Is.True);
        Assert.That(Http(set, "GET", "/v1/" + new string('x', 5000) + "/../../../admin").IsAllowed, Is.False);
    }
}
