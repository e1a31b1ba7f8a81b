using System.Diagnostics.CodeAnalysis;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>
/// The source side of an intention: a service name and namespace that may each be <c>*</c> (a <c>*</c> namespace requires a
/// <c>*</c> name), an exact partition, and an optional exact peer (consul-semantics §5).
/// </summary>
public readonly struct IntentionSource : IEquatable<IntentionSource>
{
    private readonly string? _name;
    private readonly string? _namespace;
    private readonly string? _partition;
    private readonly string? _peer;

    /// <summary>Creates a source, checking the wildcard rules.</summary>
    /// <param name="name">The service name or <c>*</c>.</param>
    /// <param name="namespace">The namespace or <c>*</c>; null or empty means <c>default</c>.</param>
    /// <param name="partition">The partition; null or empty means <c>default</c>. Never a wildcard.</param>
    /// <param name="peer">The cluster peer the source lives in; null or empty for the local cluster. Never a wildcard.</param>
    /// <exception cref="IntentionValidationException">A rule is broken; <see cref="IntentionValidationException.Rule"/> says which.</exception>
    public IntentionSource(string name, string? @namespace = null, string? partition = null, string? peer = null)
        : this(name, @namespace, partition, peer, IntentionValidationContext.None, string.Empty)
    {
    }

    internal IntentionSource(string? name, string? @namespace, string? partition, string? peer, IntentionValidationContext context, string fieldPrefix)
    {
        _name = IntentionNames.CheckWildcardable(name, isNamespace: false, fieldPrefix + "Name", context);
        _namespace = IntentionNames.CheckWildcardable(@namespace, isNamespace: true, fieldPrefix + "Namespace", context);
        IntentionNames.CheckWildcardOrder(_namespace, _name, fieldPrefix + "Name", context);
        _partition = IntentionNames.CheckExact(partition, emptyMeansDefault: true, fieldPrefix + "Partition", context);
        _peer = IntentionNames.CheckExact(peer, emptyMeansDefault: false, fieldPrefix + "Peer", context);
    }

    /// <summary>The service name, or <c>*</c>.</summary>
    public string Name => _name ?? string.Empty;

    /// <summary>The namespace, or <c>*</c>.</summary>
    public string Namespace => _namespace ?? string.Empty;

    /// <summary>The partition; never a wildcard.</summary>
    public string Partition => _partition ?? ServiceName.Default;

    /// <summary>The peer, or empty for the local cluster.</summary>
    public string Peer => _peer ?? string.Empty;

    /// <summary>Whether this is the default value, which names nothing.</summary>
    internal bool IsDefault => _name is null;

    /// <summary>Whether the name is <c>*</c>.</summary>
    public bool IsWildcardName => IntentionNames.IsWildcard(Name);

    /// <summary>Whether the namespace is <c>*</c> (then the name is too).</summary>
    public bool IsWildcardNamespace => IntentionNames.IsWildcard(Namespace);

    /// <summary>How many of namespace and name are exact: 2, 1 or 0, the source's part of the precedence.</summary>
    internal int ExactCount => IsWildcardNamespace ? 0 : IsWildcardName ? 1 : 2;

    /// <summary>Whether a connecting service matches: peer and partition equal, namespace and name <c>*</c> or equal.</summary>
    public bool Matches(ServiceName source, string? peer = null) =>
        string.Equals(Peer, peer ?? string.Empty, StringComparison.Ordinal)
        && string.Equals(Partition, source.Partition, StringComparison.Ordinal)
        && (IsWildcardNamespace || string.Equals(Namespace, source.Namespace, StringComparison.Ordinal))
        && (IsWildcardName || string.Equals(Name, source.Name, StringComparison.Ordinal));

    /// <inheritdoc />
    public bool Equals(IntentionSource other) =>
        string.Equals(Name, other.Name, StringComparison.Ordinal)
        && string.Equals(Namespace, other.Namespace, StringComparison.Ordinal)
        && string.Equals(Partition, other.Partition, StringComparison.Ordinal)
        && string.Equals(Peer, other.Peer, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is IntentionSource other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Namespace, Partition, Peer);

    /// <summary>The source as Consul prints it: <c>web</c>, <c>default/*/*</c>, <c>peer:east/web</c>.</summary>
    public override string ToString() => IntentionNames.Display(Peer, Partition, Namespace, Name);

    /// <summary>Compares two sources.</summary>
    public static bool operator ==(IntentionSource left, IntentionSource right) => left.Equals(right);

    /// <summary>Compares two sources.</summary>
    public static bool operator !=(IntentionSource left, IntentionSource right) => !left.Equals(right);
}
