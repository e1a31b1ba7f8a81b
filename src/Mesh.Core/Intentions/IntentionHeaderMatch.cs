namespace Mesh.Intentions;

/// <summary>
/// A header criterion of a permission: exactly one of <see cref="Present"/>, <see cref="Exact"/>, <see cref="Prefix"/>,
/// <see cref="Suffix"/>, <see cref="Regex"/>, optionally inverted.
/// </summary>
/// <remarks>
/// A header sent on several field lines is matched as its values joined with <c>,</c> (as Envoy does for Consul). When the
/// header is missing, <see cref="Present"/> does not match (inverted: matches) and every value criterion does not match,
/// inverted or not: <c>Exact: "x", Invert: true</c> needs the header to be there with another value.
/// </remarks>
public sealed class IntentionHeaderMatch
{
    /// <summary>The header name, compared without regard to case.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Matches when the header is present.</summary>
    public bool Present { get; init; }

    /// <summary>Matches when the value equals this exactly.</summary>
    public string? Exact { get; init; }

    /// <summary>Matches when the value starts with this.</summary>
    public string? Prefix { get; init; }

    /// <summary>Matches when the value ends with this.</summary>
    public string? Suffix { get; init; }

    /// <summary>Matches when the whole value matches this RE2 regular expression.</summary>
    public string? Regex { get; init; }

    /// <summary>Inverts the result when the header is present (and of <see cref="Present"/> always).</summary>
    public bool Invert { get; init; }
}
