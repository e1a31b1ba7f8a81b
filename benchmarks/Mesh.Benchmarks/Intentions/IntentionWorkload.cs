using Mesh.Identity;
using Mesh.Intentions;

namespace Mesh.Benchmarks.Intentions;

/// <summary>Intention sets and lookups shared by the intention benchmarks.</summary>
internal static class IntentionWorkload
{
    public const int PairCount = 1024;

    /// <summary>
    /// <paramref name="destinations"/> services, each with <paramref name="perDestination"/> exact sources, plus a namespace
    /// wildcard per destination namespace and a global deny, as a large mesh would have.
    /// </summary>
    public static List<Intention> Build(int destinations, int perDestination)
    {
        var list = new List<Intention>(destinations * perDestination + 2);
        for (int d = 0; d < destinations; d++)
        {
            for (int s = 0; s < perDestination; s++)
            {
                list.Add(new Intention(new IntentionSource($"src{((d * 7) + (s * 13)) % 5000}"), new IntentionDestination($"svc{d}"),
                    s % 4 == 0 ? IntentionAction.Deny : IntentionAction.Allow));
            }
        }

        list.Add(new Intention(new IntentionSource("*", "*"), new IntentionDestination("*", "*"), IntentionAction.Deny));
        return list;
    }

    /// <summary>Lookups spread over every destination: half hit an exact intention, half fall to the */* deny.</summary>
    public static (ServiceName Source, ServiceName Destination)[] Pairs(int destinations, int perDestination)
    {
        var random = new Random(42);
        var pairs = new (ServiceName, ServiceName)[PairCount];
        for (int i = 0; i < pairs.Length; i++)
        {
            int d = random.Next(destinations);
            int s = random.Next(perDestination);
            string source = i % 2 == 0 ? $"src{((d * 7) + (s * 13)) % 5000}" : $"stranger{i}";
            pairs[i] = (new ServiceName(source), new ServiceName($"svc{d}"));
        }

        return pairs;
    }
}
