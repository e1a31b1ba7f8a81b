using System.Diagnostics.CodeAnalysis;
using Mesh.Identity;

namespace Mesh.Intentions;

/// <summary>
/// The destination side of an intention: a service name and namespace that may each be <c>*</c> (a <c>*</c> namespace
/// requires a <c>*</c> name) and an exact partition (consul-semantics §5).
/// </summary>
public readonly struct IntentionDestination : IEquatable<IntentionDestination>
{
    private readonly string? _name;
    private readonly string? _namespace;
    private readonly string? _partition;

    /// <summary>Creates a destination, checking the wildcard rules.</summary>
    /// <param name="name">The service name or <c>*</c>.</param>
    /// <param name="namespace">The namespace or <c>*</c>; null or empty means <c>default</c>.</param>
    /// <param name="partition">The partition; null or empty means <c>default</c>. Never a wildcard.</param>
    /// <exception cref="IntentionValidationException">A rule is broken; <see cref="IntentionValidationException.Rule"/> says which.</exception>
    public IntentionDestination(string name, string? @namespace = null, string? partition = null)
        : this(name, @namespace, partition, IntentionValidationContext.None, string.Empty)
    {
    }

    internal IntentionDestination(string? name, string? @namespace, string? partition, IntentionValidationContext context, string fieldPrefix)
    {
        _name = IntentionNames.CheckWildcardable(name, isNamespace: false, fieldPrefix + "Name", context);
        _namespace = IntentionNames.CheckWildcardable(@namespace, isNamespace: true, fieldPrefix + "Namespace", context);
        IntentionNames.CheckWildcardOrder(_namespace, _name, fieldPrefix + "Name", context);
        _partition = IntentionNames.CheckExact(partition, emptyMeansDefault: true, fieldPrefix + "Partition", context);
    }

    /// <summary>The destination of a concrete service.</summary>
    public static IntentionDestination For(ServiceName service) => new(service.Name, service.Namespace, service.Partition);

    /// <summary>The service name, or <c>*</c>.</summary>
    public string Name => _name ?? string.Empty;

    /// <summary>The namespace, or <c>*</c>.</summary>
    public string Namespace => _namespace ?? string.Empty;

    /// <summary>The partition; never a wildcard.</summary>
    public string Partition => _partition ?? ServiceName.Default;

    /// <summary>Whether this is the default value, which names nothing.</summary>
    internal bool IsDefault => _name is null;

    /// <summary>Whether the name is <c>*</c>.</summary>
    public bool IsWildcardName => IntentionNames.IsWildcard(Name);

    /// <summary>Whether the namespace is <c>*</c> (then the name is too).</summary>
    public bool IsWildcardNamespace => IntentionNames.IsWildcard(Namespace);

    internal int ExactCount => IsWildcardNamespace ? 0 : IsWildcardName ? 1 : 2;

    /// <summary>Whether a service is covered: partition equal; exact name and namespace, or <c>*</c> name in its namespace, or <c>*</c>/<c>*</c>.</summary>
    public bool Matches(ServiceName destination) =>
        string.Equals(Partition, destination.Partition, StringComparison.Ordinal)
        && (IsWildcardNamespace || string.Equals(Namespace, destination.Namespace, StringComparison.Ordinal))
        && (IsWildcardName || string.Equals(Name, destination.Name, StringComparison.Ordinal));

    /// <inheritdoc />
    public bool Equals(IntentionDestination other) =>
        string.Equals(Name, other.Name, StringComparison.Ordinal)
        && string.Equals(Namespace, other.Namespace, StringComparison.Ordinal)
        && string.Equals(Partition, other.Partition, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is IntentionDestination other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Namespace, Partition);

    /// <summary>The destination as Consul prints it: <c>api</c> or <c>partition/ns/name</c>.</summary>
    public override string ToString() => IntentionNames.Display(null, Partition, Namespace, Name);

    /// <summary>Compares two destinations.</summary>
    public static bool operator ==(IntentionDestination left, IntentionDestination right) => left.Equals(right);

    /// <summary>Compares two destinations.</summary>
    public static bool operator !=(IntentionDestination left, IntentionDestination right) => !left.Equals(right);
}
