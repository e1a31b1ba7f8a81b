using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

public sealed class L4DecisionTests
{
    private static readonly ServiceName Web = new("web");
    private static readonly ServiceName Api = new("api");
    private static readonly ServiceName Admin = new("admin");

    [Test]
    public void No_intention_uses_the_default_policy_which_is_deny_unless_set_to_allow()
    {
        var empty = IntentionSet.Empty.Decide(Web, Api);
        var allowing = new IntentionSet([], IntentionAction.Allow).Decide(Web, Api);
        Assert.Multiple(() =>
        {
            Assert.That(empty.IsAllowed, Is.False);
            Assert.That(empty.DecidedByDefault, Is.True);
            Assert.That(empty.Intention, Is.Null);
            Assert.That(empty.Precedence, Is.Zero);
            Assert.That(empty.FormatReason(), Is.EqualTo("Default intention policy"));
            Assert.That(allowing.IsAllowed, Is.True);
            Assert.That(new IntentionSet([]).DefaultAction, Is.EqualTo(IntentionAction.Deny));
        });
    }

    [Test]
    public void Higher_precedence_wins_over_a_wildcard_deny()
    {
        var allowWeb = new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Allow, id: "ab12");
        var denyAll = new Intention(new IntentionSource("*", "*"), new IntentionDestination("*", "*"), IntentionAction.Deny);
        var set = new IntentionSet([denyAll, allowWeb], IntentionAction.Allow);

        IntentionDecision web = set.Decide(Web, Api);
        IntentionDecision admin = set.Decide(Admin, Api);
        Assert.Multiple(() =>
        {
            Assert.That(web.IsAllowed, Is.True);
            Assert.That(web.IntentionId, Is.EqualTo("ab12"));
            Assert.That(web.Precedence, Is.EqualTo(9));
            Assert.That(web.FormatReason(), Is.EqualTo("Matched L4 intention: web => api (ID: ab12, Precedence: 9, Action: ALLOW)"));
            Assert.That(admin.IsAllowed, Is.False, "the */* deny beats the default allow");
            Assert.That(admin.Intention, Is.SameAs(denyAll));
            Assert.That(admin.FormatReason(), Is.EqualTo("Matched L4 intention: default/*/* => default/*/* (Precedence: 1, Action: DENY)"));
        });
    }

    [Test]
    public void An_l7_intention_denies_a_plain_connection_even_if_its_permissions_would_allow()
    {
        var l7 = new Intention(new IntentionSource("web"), new IntentionDestination("api"),
            [new IntentionPermission(IntentionAction.Allow, new IntentionHttpMatch { PathPrefix = "/" })]);
        var set = new IntentionSet([l7], IntentionAction.Allow);
        IntentionDecision decision = set.Decide(Web, Api);
        Assert.Multiple(() =>
        {
            Assert.That(decision.IsAllowed, Is.False);
            Assert.That(decision.Reason, Is.EqualTo(IntentionDecisionReason.MatchedL7IntentionOnConnection));
            Assert.That(decision.FormatReason(), Does.StartWith("Matched L7 intention: web => api (Precedence: 9, Permissions: 1)"));
        });
    }

    [Test]
    public void Partition_and_peer_must_be_equal_and_namespace_wildcards_stay_in_their_partition()
    {
        var fromPeer = new Intention(new IntentionSource("web", peer: "east"), new IntentionDestination("api"), IntentionAction.Allow);
        var fromNs = new Intention(new IntentionSource("*", "team1", "p1"), new IntentionDestination("api"), IntentionAction.Allow);
        var set = new IntentionSet([fromPeer, fromNs]);
        Assert.Multiple(() =>
        {
            Assert.That(set.Decide(Web, Api, "east").IsAllowed, Is.True);
            Assert.That(set.Decide(Web, Api).IsAllowed, Is.False, "local web is not the peer's web");
            Assert.That(set.Decide(Web, Api, "west").IsAllowed, Is.False);
            Assert.That(set.Decide(new ServiceName("x", "team1", "p1"), Api).IsAllowed, Is.True);
            Assert.That(set.Decide(new ServiceName("x", "team1"), Api).IsAllowed, Is.False, "same namespace, other partition");
            Assert.That(set.Decide(new ServiceName("x", "team1", "p1"), new ServiceName("api", partition: "p1")).IsAllowed, Is.False, "destination partition differs");
        });
    }

    [Test]
    public void The_datacenter_and_trust_domain_of_the_source_are_not_compared()
    {
        var set = new IntentionSet([new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Allow)]);
        var identity = new ServiceIdentity(Web, "dc7");
        // The same identity in another trust domain (a migration): authorization looks only at the service name.
        Assert.That(ServiceIdentity.TryFromSpiffeId(identity.ToSpiffeId(TrustDomain.Parse("other.consul")), out ServiceIdentity parsed), Is.True);
        Assert.That(set.Decide(parsed, Api).IsAllowed, Is.True);
    }

    [Test]
    public void Duplicate_source_and_destination_in_one_set_is_refused()
    {
        var a = new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Allow);
        var b = new Intention(new IntentionSource("web"), new IntentionDestination("api"), IntentionAction.Deny);
        var e = Assert.Throws<IntentionValidationException>(() => _ = new IntentionSet([a, b]));
        Assert.That(e!.Rule, Is.EqualTo(IntentionValidationRule.DuplicateSource));
        Assert.That(e.Message, Does.Contain("'api'").And.Contain("'web'"));
    }

    [Test]
    public void Wildcard_rules_are_enforced_on_names()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<IntentionValidationException>(() => _ = new IntentionSource("web-*"))!.Rule, Is.EqualTo(IntentionValidationRule.PartialWildcard));
            Assert.That(Assert.Throws<IntentionValidationException>(() => _ = new IntentionSource("web", "*"))!.Rule, Is.EqualTo(IntentionValidationRule.WildcardNamespaceRequiresWildcardName));
            Assert.That(Assert.Throws<IntentionValidationException>(() => _ = new IntentionSource("web", partition: "*"))!.Rule, Is.EqualTo(IntentionValidationRule.WildcardPartitionOrPeer));
            Assert.That(Assert.Throws<IntentionValidationException>(() => _ = new IntentionSource("web", peer: "*"))!.Rule, Is.EqualTo(IntentionValidationRule.WildcardPartitionOrPeer));
            Assert.That(Assert.Throws<IntentionValidationException>(() => _ = new IntentionDestination("api", "*"))!.Rule, Is.EqualTo(IntentionValidationRule.WildcardNamespaceRequiresWildcardName));
            Assert.That(Assert.Throws<IntentionValidationException>(() => _ = new IntentionDestination("a.b"))!.Rule, Is.EqualTo(IntentionValidationRule.InvalidName));
        });
    }

    [Test]
    public void A_large_set_decides_the_same_as_a_scan()
    {
        // 2,000 destinations with a handful of sources each, plus namespace and global wildcards.
        var intentions = new List<Intention>();
        for (int d = 0; d < 2000; d++)
        {
            for (int s = 0; s < 4; s++)
            {
                intentions.Add(new Intention(new IntentionSource($"src{(d + s) % 700}"), new IntentionDestination($"dst{d}"), (d + s) % 3 == 0 ? IntentionAction.Deny : IntentionAction.Allow));
            }
        }

        intentions.Add(new Intention(new IntentionSource("*"), new IntentionDestination("*"), IntentionAction.Allow));
        intentions.Add(new Intention(new IntentionSource("*", "*"), new IntentionDestination("*", "*"), IntentionAction.Deny));
        var set = new IntentionSet(intentions);
        var random = new Random(3);
        for (int i = 0; i < 400; i++)
        {
            var source = new ServiceName($"src{random.Next(800)}", random.Next(4) == 0 ? "other" : null);
            var destination = new ServiceName($"dst{random.Next(2100)}");
            Intention expected = set.Intentions.First(x => x.Destination.Matches(destination) && x.Source.Matches(source));
            Assert.That(set.Decide(source, destination).Intention, Is.SameAs(expected), $"{source} => {destination}");
        }
    }
}
