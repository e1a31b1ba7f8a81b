using System.Buffers;
using System.Numerics;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>
/// An immutable snapshot of intentions with the default policy, deciding connections and HTTP requests exactly as Consul
/// does (consul-semantics §5) in time independent of the number of intentions. Decisions never lock or allocate; a new
/// snapshot replaces an old one by a reference swap (see <see cref="ControlPlane.IIntentionSource"/>).
/// </summary>
/// <remarks>
/// <para>
/// Consul sorts every intention by precedence and takes the first whose destination and source match. Within one
/// destination key (exact name, <c>*</c> in a namespace, <c>*</c>/<c>*</c>) and one source key (exact, <c>*</c> in a
/// namespace, <c>*</c>/<c>*</c>, each with its exact partition and peer) at most one intention can exist, so that first
/// match is the first hit among nine lookups in precedence order 9 … 1: destination keys are hashed into one table, and
/// each destination owns a small hash region of its sources. Tie-breaks among equal precedences never change which
/// intention matches, because two intentions that could both match a source differ in precedence.
/// </para>
/// <para>
/// The trust domain is not compared, as in Consul: chain validation against the trust bundle is what bounds trust.
/// </para>
/// </remarks>
public sealed class IntentionSet
{
    private const int StackPathLimit = 512;
    private const int ExactSources = 1;
    private const int NamespaceWildcardSources = 2;
    private const int AllWildcardSources = 4;

    private readonly Intention[] _sorted;
    private readonly DestinationSlot[] _destinationSlots;
    private readonly SourceSlot[] _sourceSlots;
    private readonly int _destinationMask;
    private readonly bool _defaultAllows;

    /// <summary>Builds a snapshot.</summary>
    /// <param name="intentions">The intentions, in any order.</param>
    /// <param name="defaultAction">What decides when no intention matches; Mesh's default is deny (zero trust).</param>
    /// <exception cref="IntentionValidationException">Two intentions have the same source and destination.</exception>
    public IntentionSet(IEnumerable<Intention> intentions, IntentionAction defaultAction = IntentionAction.Deny)
    {
        ArgumentNullException.ThrowIfNull(intentions);
        if (defaultAction is not (IntentionAction.Allow or IntentionAction.Deny))
        {
            throw new ArgumentOutOfRangeException(nameof(defaultAction));
        }

        DefaultAction = defaultAction;
        _defaultAllows = defaultAction == IntentionAction.Allow;
        _sorted = [.. intentions];
        foreach (Intention intention in _sorted)
        {
            ArgumentNullException.ThrowIfNull(intention, nameof(intentions));
        }

        Array.Sort(_sorted, IntentionPrecedenceComparer.Instance);

        // Group by destination key, remembering each intention's sorted index.
        var groups = new Dictionary<IntentionDestination, List<int>>();
        for (int i = 0; i < _sorted.Length; i++)
        {
            IntentionDestination destination = _sorted[i].Destination;
            if (!groups.TryGetValue(destination, out List<int>? members))
            {
                groups.Add(destination, members = new List<int>(4));
            }

            members.Add(i);
        }

        int destinationCapacity = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, groups.Count * 2));
        _destinationSlots = new DestinationSlot[destinationCapacity];
        _destinationMask = destinationCapacity - 1;

        int sourceCapacity = 0;
        foreach (List<int> members in groups.Values)
        {
            sourceCapacity += RegionSize(members.Count);
        }

        _sourceSlots = new SourceSlot[sourceCapacity];
        int regionStart = 0;
        foreach (KeyValuePair<IntentionDestination, List<int>> group in groups)
        {
            IntentionDestination destination = group.Key;
            int regionSize = RegionSize(group.Value.Count);
            int sourceKinds = 0;
            foreach (int index in group.Value)
            {
                IntentionSource source = _sorted[index].Source;
                ulong sourceHash = SourceHash(source.Peer, source.Partition, source.Namespace, source.Name);
                if (FindSourceSlot(regionStart, regionSize - 1, sourceHash, source.Peer, source.Partition, source.Namespace, source.Name) >= 0)
                {
                    throw new IntentionValidationException(IntentionValidationRule.DuplicateSource, destination.ToString(), source.ToString(), string.Empty,
                        "two intentions have this source and destination");
                }

                int offset = (int)sourceHash & (regionSize - 1);
                while (_sourceSlots[regionStart + offset].Name is not null)
                {
                    offset = (offset + 1) & (regionSize - 1);
                }

                _sourceSlots[regionStart + offset] = new SourceSlot(sourceHash, source.Name, source.Namespace, source.Partition, source.Peer, index);
                sourceKinds |= 1 << (2 - source.ExactCount);
            }

            ulong destinationHash = DestinationHash(destination.Partition, destination.Namespace, destination.Name);
            int slot = (int)destinationHash & _destinationMask;
            while (_destinationSlots[slot].Name is not null)
            {
                slot = (slot + 1) & _destinationMask;
            }

            _destinationSlots[slot] = new DestinationSlot(destinationHash, destination.Name, destination.Namespace, destination.Partition, regionStart, regionSize - 1, sourceKinds);
            regionStart += regionSize;
        }
    }

    /// <summary>A set with no intentions that denies everything.</summary>
    public static IntentionSet Empty { get; } = new([]);

    /// <summary>What decides when no intention matches.</summary>
    public IntentionAction DefaultAction { get; }

    /// <summary>How many intentions the set holds.</summary>
    public int Count => _sorted.Length;

    /// <summary>The intentions in Consul's evaluation order (precedence, then source ns, source name, destination ns, destination name).</summary>
    public IReadOnlyList<Intention> Intentions => _sorted;

    /// <summary>Decides a plain (L4) connection: the first matching intention's action; an L7 intention denies; else the default.</summary>
    /// <param name="source">The connecting service, from its certificate; its datacenter and trust domain are not compared.</param>
    /// <param name="destination">The service connected to.</param>
    /// <param name="sourcePeer">The cluster peer the source belongs to, or null for the local cluster.</param>
    public IntentionDecision Decide(ServiceName source, ServiceName destination, string? sourcePeer = null)
    {
        int index = Find(source, sourcePeer ?? string.Empty, destination);
        if (index < 0)
        {
            return new IntentionDecision(_defaultAllows, IntentionDecisionReason.DefaultPolicy, null);
        }

        Intention intention = _sorted[index];
        return intention.HasPermissions
            ? new IntentionDecision(false, IntentionDecisionReason.MatchedL7IntentionOnConnection, intention)
            : new IntentionDecision(intention.Action == IntentionAction.Allow, IntentionDecisionReason.MatchedL4Intention, intention);
    }

    /// <summary>Decides a plain connection from a service identity; the datacenter is not compared.</summary>
    public IntentionDecision Decide(ServiceIdentity source, ServiceName destination, string? sourcePeer = null) =>
        Decide(source.Service, destination, sourcePeer);

    /// <summary>
    /// Decides an HTTP request: the first matching intention decides; an L4 intention by its action, an L7 intention by its
    /// first matching permission in list order, or by the default policy when none matches (never by a lower intention).
    /// </summary>
    public IntentionDecision DecideHttp<TRequest>(ServiceName source, ServiceName destination, ref TRequest request, string? sourcePeer = null)
        where TRequest : IIntentionHttpRequest, allows ref struct
    {
        int index = Find(source, sourcePeer ?? string.Empty, destination);
        if (index < 0)
        {
            return new IntentionDecision(_defaultAllows, IntentionDecisionReason.DefaultPolicy, null);
        }

        Intention intention = _sorted[index];
        if (!intention.HasPermissions)
        {
            return new IntentionDecision(intention.Action == IntentionAction.Allow, IntentionDecisionReason.MatchedL4Intention, intention);
        }

        ReadOnlySpan<char> target = request.Target;
        char[]? rented = null;
        Span<char> buffer = target.Length <= StackPathLimit ? stackalloc char[StackPathLimit] : (rented = ArrayPool<char>.Shared.Rent(target.Length));
        try
        {
            int length = HttpPathNormalizer.Normalize(target, buffer);
            if (length < 0)
            {
                return new IntentionDecision(false, IntentionDecisionReason.InvalidRequestPath, intention);
            }

            ReadOnlySpan<char> path = buffer[..length];
            CompiledPermission[] permissions = intention.CompiledPermissions;
            for (int i = 0; i < permissions.Length; i++)
            {
                if (permissions[i].Matches(ref request, path))
                {
                    return new IntentionDecision(permissions[i].Action == IntentionAction.Allow, IntentionDecisionReason.MatchedPermission, intention, i);
                }
            }

            return new IntentionDecision(_defaultAllows, IntentionDecisionReason.NoPermissionMatched, intention);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The sorted index of the first intention matching, or -1: nine lookups at most, in precedence order.</summary>
    private int Find(in ServiceName source, string peer, in ServiceName destination)
    {
        if (_sorted.Length == 0)
        {
            return -1;
        }

        string partition = destination.Partition;
        string ns = destination.Namespace;
        ulong partitionHash = NameHash.Of(partition);
        ulong partitionNamespace = NameHash.Combine(partitionHash, NameHash.Of(ns));
        var sourceKey = new SourceKey(source, peer);

        int bucket = FindDestination(NameHash.Finish(NameHash.Combine(partitionNamespace, NameHash.Of(destination.Name))), partition, ns, destination.Name);
        int found = bucket < 0 ? -1 : FindSource(bucket, ref sourceKey);
        if (found >= 0)
        {
            return found;
        }

        bucket = FindDestination(NameHash.Finish(NameHash.Combine(partitionNamespace, NameHash.Wildcard)), partition, ns, IntentionNames.Wildcard);
        found = bucket < 0 ? -1 : FindSource(bucket, ref sourceKey);
        if (found >= 0)
        {
            return found;
        }

        bucket = FindDestination(NameHash.Finish(NameHash.Combine(NameHash.Combine(partitionHash, NameHash.Wildcard), NameHash.Wildcard)), partition, IntentionNames.Wildcard, IntentionNames.Wildcard);
        return bucket < 0 ? -1 : FindSource(bucket, ref sourceKey);
    }

    private int FindDestination(ulong hash, string partition, string ns, string name)
    {
        DestinationSlot[] slots = _destinationSlots;
        int i = (int)hash & _destinationMask;
        while (true)
        {
            ref readonly DestinationSlot slot = ref slots[i];
            if (slot.Name is null)
            {
                return -1;
            }

            if (slot.Hash == hash
                && string.Equals(slot.Name, name, StringComparison.Ordinal)
                && string.Equals(slot.Namespace, ns, StringComparison.Ordinal)
                && string.Equals(slot.Partition, partition, StringComparison.Ordinal))
            {
                return i;
            }

            i = (i + 1) & _destinationMask;
        }
    }

    private int FindSource(int destinationSlot, ref SourceKey key)
    {
        ref readonly DestinationSlot bucket = ref _destinationSlots[destinationSlot];
        key.EnsureHashed();

        // Only probe for the kinds of source this destination has: most have only exact sources, a */* bucket only */*.
        int found = (bucket.SourceKinds & ExactSources) == 0 ? -1
            : FindSourceSlot(bucket.RegionStart, bucket.RegionMask, key.ExactHash, key.Peer, key.Partition, key.Namespace, key.Name);
        if (found < 0 && (bucket.SourceKinds & NamespaceWildcardSources) != 0)
        {
            found = FindSourceSlot(bucket.RegionStart, bucket.RegionMask, key.NamespaceWildcardHash, key.Peer, key.Partition, key.Namespace, IntentionNames.Wildcard);
        }

        if (found < 0 && (bucket.SourceKinds & AllWildcardSources) != 0)
        {
            found = FindSourceSlot(bucket.RegionStart, bucket.RegionMask, key.AllWildcardHash, key.Peer, key.Partition, IntentionNames.Wildcard, IntentionNames.Wildcard);
        }

        return found;
    }

    // Slots hold the key's names inline, so a probe reads one slot and the compared strings, not the intention.
    private int FindSourceSlot(int start, int mask, ulong hash, string peer, string partition, string ns, string name)
    {
        SourceSlot[] slots = _sourceSlots;
        int offset = (int)hash & mask;
        while (true)
        {
            ref readonly SourceSlot slot = ref slots[start + offset];
            if (slot.Name is null)
            {
                return -1;
            }

            if (slot.Hash == hash
                && string.Equals(slot.Name, name, StringComparison.Ordinal)
                && string.Equals(slot.Namespace, ns, StringComparison.Ordinal)
                && string.Equals(slot.Partition, partition, StringComparison.Ordinal)
                && string.Equals(slot.Peer, peer, StringComparison.Ordinal))
            {
                return slot.Index;
            }

            offset = (offset + 1) & mask;
        }
    }

    // Load factor at most one half, so a probe sequence always ends at an empty slot.
    private static int RegionSize(int count) => (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, count * 2));

    private static ulong DestinationHash(string partition, string ns, string name) =>
        NameHash.Finish(NameHash.Combine(NameHash.Combine(NameHash.Of(partition), NameHash.Of(ns)), NameHash.Of(name)));

    private static ulong SourceHash(string peer, string partition, string ns, string name) =>
        NameHash.Finish(NameHash.Combine(NameHash.Combine(NameHash.Combine(NameHash.Of(peer), NameHash.Of(partition)), NameHash.Of(ns)), NameHash.Of(name)));

    private readonly record struct DestinationSlot(ulong Hash, string? Name, string Namespace, string Partition, int RegionStart, int RegionMask, int SourceKinds);

    private readonly record struct SourceSlot(ulong Hash, string? Name, string Namespace, string Partition, string Peer, int Index);

    /// <summary>The three source keys of a connecting service, hashed on first use.</summary>
    private struct SourceKey
    {
        public readonly string Peer;
        public readonly string Partition;
        public readonly string Namespace;
        public readonly string Name;
        public ulong ExactHash;
        public ulong NamespaceWildcardHash;
        public ulong AllWildcardHash;
        private bool _hashed;

        public SourceKey(in ServiceName source, string peer)
        {
            Peer = peer;
            Partition = source.Partition;
            Namespace = source.Namespace;
            Name = source.Name;
        }

        public void EnsureHashed()
        {
            if (_hashed)
            {
                return;
            }

            ulong peerPartition = NameHash.Combine(NameHash.Of(Peer), NameHash.Of(Partition));
            ulong withNamespace = NameHash.Combine(peerPartition, NameHash.Of(Namespace));
            ExactHash = NameHash.Finish(NameHash.Combine(withNamespace, NameHash.Of(Name)));
            NamespaceWildcardHash = NameHash.Finish(NameHash.Combine(withNamespace, NameHash.Wildcard));
            AllWildcardHash = NameHash.Finish(NameHash.Combine(NameHash.Combine(peerPartition, NameHash.Wildcard), NameHash.Wildcard));
            _hashed = true;
        }
    }
}
