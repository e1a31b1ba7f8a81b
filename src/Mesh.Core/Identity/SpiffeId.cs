using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Mesh.Identity;

/// <summary>
/// A SPIFFE ID (SPIFFE-ID §2): <c>spiffe://&lt;trust-domain&gt;[/&lt;path&gt;]</c>, such as
/// <c>spiffe://example.consul/ns/default/dc/dc1/svc/dashboard</c>.
/// </summary>
/// <remarks>
/// Parsed from the raw string or UTF-8 bytes, never through <see cref="Uri"/>, which lower-cases the host, removes dot segments and
/// decodes percent-escapes and so would accept IDs the standard forbids. <see cref="Parse(string)"/> accepts only the canonical form
/// (as certificates must carry it); <see cref="ParseNormalized(string)"/> folds the scheme and trust domain of user input to lower case.
/// </remarks>
public readonly struct SpiffeId : IEquatable<SpiffeId>
{
    private readonly string? _value;
    private readonly int _pathStart;

    private SpiffeId(string value, int pathStart)
    {
        _value = value;
        _pathStart = pathStart;
    }

    /// <summary>The trust domain this ID belongs to.</summary>
    public TrustDomain TrustDomain =>
        TrustDomain.CreateTrusted(Value.Substring(SpiffeIdGrammar.Scheme.Length, _pathStart - SpiffeIdGrammar.Scheme.Length));

    /// <summary>The path, empty or starting with <c>/</c>.</summary>
    public string Path => Value[_pathStart..];

    /// <summary>The path as a span, without allocating.</summary>
    public ReadOnlySpan<char> PathSpan => Value.AsSpan(_pathStart);

    /// <summary>The trust domain name as a span, without allocating.</summary>
    public ReadOnlySpan<char> TrustDomainSpan => Value.AsSpan(SpiffeIdGrammar.Scheme.Length, _pathStart - SpiffeIdGrammar.Scheme.Length);

    /// <summary>Whether the ID has a path. Workload identities (X.509-SVID leaves) must have one; CA identities must not.</summary>
    public bool HasPath => _pathStart < Value.Length;

    /// <summary>Whether this instance holds an ID (it does unless it is <c>default</c>).</summary>
    public bool IsValid => _value is not null;

    /// <summary>The whole ID as a string.</summary>
    public string Value => _value ?? throw new InvalidOperationException("This SpiffeId is the default value and holds no ID.");

    /// <summary>Parses a canonical SPIFFE ID.</summary>
    /// <exception cref="FormatException">The ID breaks a SPIFFE rule; the message names it.</exception>
    public static SpiffeId Parse(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return TryParse(id, out SpiffeId spiffeId, out SpiffeIdError error) ? spiffeId : throw FormatError(id, error, "SPIFFE ID");
    }

    /// <summary>Parses a canonical SPIFFE ID.</summary>
    public static bool TryParse([NotNullWhen(true)] string? id, out SpiffeId spiffeId) => TryParse(id, out spiffeId, out _);

    /// <summary>Parses a canonical SPIFFE ID, reporting the broken rule.</summary>
    public static bool TryParse([NotNullWhen(true)] string? id, out SpiffeId spiffeId, out SpiffeIdError error)
    {
        spiffeId = default;
        if (id is null)
        {
            error = SpiffeIdError.Empty;
            return false;
        }

        error = SpiffeIdGrammar.ValidateId(id.AsSpan(), out int pathStart);
        if (error != SpiffeIdError.None)
        {
            return false;
        }

        spiffeId = new SpiffeId(id, pathStart);
        return true;
    }

    /// <summary>Parses a canonical SPIFFE ID from UTF-8 bytes, such as the IA5String of a certificate's URI SAN.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Id, out SpiffeId spiffeId, out SpiffeIdError error)
    {
        spiffeId = default;
        error = SpiffeIdGrammar.ValidateId(utf8Id, out int pathStart);
        if (error != SpiffeIdError.None)
        {
            return false;
        }

        // Validation guarantees ASCII, so the ASCII decoder is exact.
        spiffeId = new SpiffeId(Encoding.ASCII.GetString(utf8Id), pathStart);
        return true;
    }

    /// <summary>Checks UTF-8 bytes against the SPIFFE ID grammar without allocating.</summary>
    public static SpiffeIdError Validate(ReadOnlySpan<byte> utf8Id) => SpiffeIdGrammar.ValidateId(utf8Id, out _);

    /// <summary>Checks a string against the SPIFFE ID grammar without allocating.</summary>
    public static SpiffeIdError Validate(ReadOnlySpan<char> id) => SpiffeIdGrammar.ValidateId(id, out _);

    /// <summary>
    /// Parses user input: the scheme and trust domain are folded to lower case (ASCII only); the path stays as given, since it is case-sensitive.
    /// </summary>
    /// <exception cref="FormatException">The ID still breaks a SPIFFE rule after folding.</exception>
    public static SpiffeId ParseNormalized(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        int authorityStart = id.IndexOf("://", StringComparison.Ordinal);
        if (authorityStart < 0)
        {
            throw FormatError(id, SpiffeIdError.WrongScheme, "SPIFFE ID");
        }

        int pathStart = id.IndexOf('/', authorityStart + 3);
        if (pathStart < 0)
        {
            pathStart = id.Length;
        }

        return Parse(AsciiCase.ToLower(id[..pathStart]) + id[pathStart..]);
    }

    /// <summary>Builds an ID from a trust domain and path segments, each checked against the segment rules.</summary>
    /// <exception cref="FormatException">A segment is empty, <c>.</c>, <c>..</c> or holds a character SPIFFE forbids.</exception>
    public static SpiffeId FromSegments(TrustDomain trustDomain, params ReadOnlySpan<string> segments)
    {
        var builder = new StringBuilder(SpiffeIdGrammar.Scheme).Append(trustDomain.Name);
        int pathStart = builder.Length;
        foreach (string segment in segments)
        {
            ArgumentNullException.ThrowIfNull(segment, nameof(segments));
            SpiffeIdError error = SpiffeIdGrammar.ValidateSegment(segment);
            if (error != SpiffeIdError.None)
            {
                throw new FormatException($"'{segment}' cannot be a segment of a SPIFFE ID in trust domain '{trustDomain.Name}': {SpiffeIdGrammar.Describe(error)} (SPIFFE-ID §2.2).");
            }

            builder.Append('/').Append(segment);
        }

        return new SpiffeId(builder.ToString(), pathStart);
    }

    /// <summary>A human-readable description of a broken rule, for messages.</summary>
    public static string Describe(SpiffeIdError error) => SpiffeIdGrammar.Describe(error);

    internal static SpiffeId CreateTrusted(string value, int pathStart) => new(value, pathStart);

    internal static FormatException FormatError(string input, SpiffeIdError error, string what) =>
        new($"'{Truncate(input)}' is not a valid {what}: {SpiffeIdGrammar.Describe(error)} (SPIFFE-ID §2, rule {error}).");

    private static string Truncate(string input) => input.Length <= 300 ? input : string.Concat(input.AsSpan(0, 300), "…");

    /// <inheritdoc />
    public bool Equals(SpiffeId other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <summary>Whether this ID's bytes equal a UTF-8 ID, without allocating.</summary>
    public bool Equals(ReadOnlySpan<byte> utf8Id)
    {
        string value = Value;
        if (value.Length != utf8Id.Length)
        {
            return false;
        }

        for (int i = 0; i < utf8Id.Length; i++)
        {
            if (value[i] != utf8Id[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is SpiffeId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>The whole ID.</summary>
    public override string ToString() => _value ?? string.Empty;

    /// <summary>Compares two IDs byte for byte.</summary>
    public static bool operator ==(SpiffeId left, SpiffeId right) => left.Equals(right);

    /// <summary>Compares two IDs byte for byte.</summary>
    public static bool operator !=(SpiffeId left, SpiffeId right) => !left.Equals(right);
}
