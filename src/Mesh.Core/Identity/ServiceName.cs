using System.Diagnostics.CodeAnalysis;

namespace Mesh.Identity;

/// <summary>
/// A Consul service name with its namespace and admin partition, such as <c>counting</c> in <c>default</c>/<c>default</c>.
/// </summary>
/// <remarks>
/// Consul allows names that cannot appear in a SPIFFE ID or an SNI label; Mesh refuses them when the name is made, so a bad
/// configuration fails at start instead of at the first handshake. Each part is non-empty, holds only <c>[A-Za-z0-9_-]</c>
/// (a SPIFFE path segment that is also one DNS label: no dots, SNI names split on them) and is at most 63 characters.
/// An empty or null namespace or partition means <c>default</c>, as in Consul.
/// </remarks>
public readonly struct ServiceName : IEquatable<ServiceName>
{
    /// <summary>The namespace and partition every Consul Community Edition service lives in.</summary>
    public const string Default = "default";

    private const int MaxLabelLength = 63;

    private readonly string? _name;
    private readonly string? _namespace;
    private readonly string? _partition;

    /// <summary>Creates a service name, checking each part.</summary>
    /// <param name="name">The service name, for example <c>counting</c>.</param>
    /// <param name="namespace">The namespace; null or empty means <c>default</c>.</param>
    /// <param name="partition">The admin partition; null or empty means <c>default</c>. Kept in lower case, so <c>Part1</c> and <c>part1</c> are one partition.</param>
    /// <exception cref="ArgumentException">A part cannot form a SPIFFE ID or SNI label; the message names it.</exception>
    public ServiceName(string name, string? @namespace = null, string? partition = null)
    {
        _name = CheckPart(name, "service name", nameof(name));
        _namespace = string.IsNullOrEmpty(@namespace) ? Default : CheckPart(@namespace, "namespace", nameof(@namespace));
        // Consul treats partition names without regard to case and writes them in lower case (acl.PartitionOrDefault).
        _partition = string.IsNullOrEmpty(partition) ? Default : AsciiCase.ToLower(CheckPart(partition, "partition", nameof(partition)));
    }

    /// <summary>The service name.</summary>
    public string Name => _name ?? throw new InvalidOperationException("This ServiceName is the default value and names no service.");

    /// <summary>The namespace (<c>default</c> unless given).</summary>
    public string Namespace => _namespace ?? Default;

    /// <summary>The admin partition in lower case (<c>default</c> unless given).</summary>
    public string Partition => _partition ?? Default;

    /// <summary>Whether the partition is the default one, which Consul leaves out of SPIFFE IDs and SNI names.</summary>
    public bool IsDefaultPartition => string.Equals(Partition, Default, StringComparison.Ordinal);

    /// <summary>Whether a string can be a service name, namespace, partition, datacenter or subset name.</summary>
    public static bool IsValidPart([NotNullWhen(true)] string? part) => part is not null && DescribeInvalidPart(part) is null;

    /// <summary>Checks a name part (service, namespace, partition, datacenter, subset) and returns it.</summary>
    /// <exception cref="ArgumentException">The part is invalid; the message names the part and the rule.</exception>
    public static string CheckPart(string part, string what, string paramName)
    {
        ArgumentNullException.ThrowIfNull(part, paramName);
        string? problem = DescribeInvalidPart(part);
        return problem is null
            ? part
            : throw new ArgumentException($"The {what} {ErrorQuote.Of(part)} is not usable in the mesh: {problem}. Names must form a SPIFFE ID path segment and an SNI label.", paramName);
    }

    internal static string? DescribeInvalidPart(string part)
    {
        if (part.Length == 0)
        {
            return "it is empty";
        }

        if (part.Length > MaxLabelLength)
        {
            return "it is longer than 63 characters";
        }

        foreach (char c in part)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                return c == '.'
                    ? "it holds a dot, which would split its SNI label"
                    : $"it holds '{c}' (U+{(int)c:X4}); only letters, digits, '-' and '_' are allowed";
            }
        }

        return null;
    }

    /// <inheritdoc />
    public bool Equals(ServiceName other) =>
        string.Equals(_name, other._name, StringComparison.Ordinal)
        && string.Equals(Namespace, other.Namespace, StringComparison.Ordinal)
        && string.Equals(Partition, other.Partition, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is ServiceName other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(_name, Namespace, Partition);

    /// <summary>The name as Consul writes it in logs: <c>partition/namespace/name</c>, or just <c>name</c> in the defaults.</summary>
    public override string ToString() =>
        IsDefaultPartition && Namespace == Default ? _name ?? string.Empty : $"{Partition}/{Namespace}/{_name}";

    /// <summary>Compares two names part by part, ordinally.</summary>
    public static bool operator ==(ServiceName left, ServiceName right) => left.Equals(right);

    /// <summary>Compares two names part by part, ordinally.</summary>
    public static bool operator !=(ServiceName left, ServiceName right) => !left.Equals(right);
}
