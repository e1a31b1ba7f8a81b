using CsCheck;
using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Core.Tests.Intentions;

/// <summary>The indexed evaluator against a literal transcription of Consul's algorithm: sort everything, take the first match.</summary>
public sealed class ReferenceEvaluatorPropertyTests
{
    private static readonly string[] Names = ["a", "b", "web"];
    private static readonly string[] Namespaces = ["default", "ns1"];
    private static readonly string[] Partitions = ["default", "p1"];
    private static readonly string[] Peers = ["", "east"];

    private static readonly Gen<(string Ns, string Name)> WildcardableName =
        Gen.Int[0, 5].SelectMany(kind => kind switch
        {
            0 => Gen.Const(("*", "*")),
            1 => Gen.OneOfConst(Namespaces).Select(ns => (ns, "*")),
            _ => Gen.Select(Gen.OneOfConst(Namespaces), Gen.OneOfConst(Names), (ns, n) => (ns, n)),
        });

    private static readonly Gen<Intention> AnIntention =
        Gen.Select(WildcardableName, WildcardableName, Gen.OneOfConst(Partitions), Gen.OneOfConst(Partitions), Gen.OneOfConst(Peers), Gen.Int[0, 3])
            .Select(t =>
            {
                var source = new IntentionSource(t.Item1.Name, t.Item1.Ns, t.Item3, t.Item5);
                var destination = new IntentionDestination(t.Item2.Name, t.Item2.Ns, t.Item4);
                return t.Item6 == 0 && !destination.IsWildcardName
                    ? new Intention(source, destination, [new IntentionPermission(IntentionAction.Allow, new IntentionHttpMatch { PathPrefix = "/" })])
                    : new Intention(source, destination, t.Item6 == 1 ? IntentionAction.Deny : IntentionAction.Allow);
            });

    [Test]
    public void Evaluator_decides_as_consul_sorted_first_match_on_random_sets()
    {
        var identities = (from p in Partitions from ns in Namespaces from n in Names select new ServiceName(n, ns, p)).ToArray();
        Gen.Select(AnIntention.List[0, 40], Gen.Bool).Sample(t =>
        {
            // Keep one intention per (source, destination), as Consul's storage does.
            var unique = t.Item1.DistinctBy(i => (i.Source, i.Destination)).ToList();
            var defaultAction = t.Item2 ? IntentionAction.Allow : IntentionAction.Deny;
            var set = new IntentionSet(unique, defaultAction);
            var sorted = ReferenceSort(unique);

            foreach (ServiceName destination in identities)
            {
                foreach (ServiceName source in identities)
                {
                    foreach (string peer in Peers)
                    {
                        Intention? expected = sorted.FirstOrDefault(i => DestinationMatches(i, destination) && SourceMatches(i, source, peer));
                        IntentionDecision decision = set.Decide(source, destination, peer.Length == 0 ? null : peer);

                        bool expectedAllowed = expected is null ? defaultAction == IntentionAction.Allow
                            : expected.Permissions.Count == 0 && expected.Action == IntentionAction.Allow;
                        if (!ReferenceEquals(decision.Intention, expected) || decision.IsAllowed != expectedAllowed)
                        {
                            throw new InvalidOperationException($"{peer}:{source} => {destination}: expected {expected?.ToString() ?? "default"}, got {decision}");
                        }
                    }
                }
            }
        }, iter: 300);
    }

    // Consul's IntentionPrecedenceSorter: precedence descending, then SourceNS, SourceName, DestinationNS, DestinationName.
    private static List<Intention> ReferenceSort(List<Intention> intentions)
    {
        var copy = intentions.ToList();
        copy.Sort((a, b) =>
        {
            if (a.Precedence != b.Precedence) return b.Precedence.CompareTo(a.Precedence);
            if (a.Source.Namespace != b.Source.Namespace) return string.CompareOrdinal(a.Source.Namespace, b.Source.Namespace);
            if (a.Source.Name != b.Source.Name) return string.CompareOrdinal(a.Source.Name, b.Source.Name);
            if (a.Destination.Namespace != b.Destination.Namespace) return string.CompareOrdinal(a.Destination.Namespace, b.Destination.Namespace);
            return string.CompareOrdinal(a.Destination.Name, b.Destination.Name);
        });
        return copy;
    }

    private static bool DestinationMatches(Intention i, ServiceName d) =>
        i.Destination.Partition == d.Partition
        && (i.Destination.Namespace == "*" || i.Destination.Namespace == d.Namespace)
        && (i.Destination.Name == "*" || i.Destination.Name == d.Name);

    private static bool SourceMatches(Intention i, ServiceName s, string peer) =>
        i.Source.Peer == peer
        && i.Source.Partition == s.Partition
        && (i.Source.Namespace == "*" || i.Source.Namespace == s.Namespace)
        && (i.Source.Name == "*" || i.Source.Name == s.Name);
}
