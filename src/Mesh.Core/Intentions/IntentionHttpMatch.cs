namespace Mesh.Intentions;

/// <summary>
/// The HTTP criteria of a permission, Consul's <c>HTTP</c> block. Paths are compared with the request path after
/// normalisation (see <c>docs/intentions.md</c>); at most one path matcher may be set.
/// </summary>
public sealed class IntentionHttpMatch
{
    /// <summary>The normalised path, without its query, must equal this.</summary>
    public string? PathExact { get; init; }

    /// <summary>The normalised path must start with this string: a plain prefix, so <c>/v1</c> also matches <c>/v1foo</c>.</summary>
    public string? PathPrefix { get; init; }

    /// <summary>The whole normalised path must match this RE2 regular expression.</summary>
    public string? PathRegex { get; init; }

    /// <summary>The request method must be one of these (upper case, compared exactly); empty means any method.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>Header criteria; all must match.</summary>
    public IReadOnlyList<IntentionHeaderMatch> Headers { get; init; } = [];
}
