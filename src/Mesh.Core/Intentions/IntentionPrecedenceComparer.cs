namespace Mesh.Intentions;

/// <summary>
/// Consul's evaluation order: precedence descending, then source namespace, source name, destination namespace, destination
/// name, ordinally (Go compares strings by bytes). Partition and peer follow only to make the order total.
/// </summary>
internal sealed class IntentionPrecedenceComparer : IComparer<Intention>
{
    public static readonly IntentionPrecedenceComparer Instance = new();

    public int Compare(Intention? x, Intention? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null || y is null)
        {
            return x is null ? 1 : -1;
        }

        int c = y.Precedence.CompareTo(x.Precedence);
        if (c == 0) { c = string.CompareOrdinal(x.Source.Namespace, y.Source.Namespace); }
        if (c == 0) { c = string.CompareOrdinal(x.Source.Name, y.Source.Name); }
        if (c == 0) { c = string.CompareOrdinal(x.Destination.Namespace, y.Destination.Namespace); }
        if (c == 0) { c = string.CompareOrdinal(x.Destination.Name, y.Destination.Name); }
        if (c == 0) { c = string.CompareOrdinal(x.Source.Partition, y.Source.Partition); }
        if (c == 0) { c = string.CompareOrdinal(x.Source.Peer, y.Source.Peer); }
        if (c == 0) { c = string.CompareOrdinal(x.Destination.Partition, y.Destination.Partition); }
        return c;
    }
}
