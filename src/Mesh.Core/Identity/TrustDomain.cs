using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Mesh.Identity;

/// <summary>
/// A SPIFFE trust domain (SPIFFE-ID §2.1): the authority of every SPIFFE ID it issues, such as
/// <c>7f42f496-fbc7-8692-05ed-334aa5340c1e.consul</c> for a Consul cluster.
/// </summary>
/// <remarks>
/// Only the canonical form is accepted by <see cref="Parse(string)"/>: lower case, characters <c>[a-z0-9.-_]</c>, at most 255 bytes.
/// <see cref="ParseNormalized(string)"/> folds ASCII upper case for user input (never Unicode case mapping).
/// </remarks>
public readonly struct TrustDomain : IEquatable<TrustDomain>
{
    private readonly string? _name;

    private TrustDomain(string name) => _name = name;

    /// <summary>The trust domain name, without scheme, for example <c>example.consul</c>.</summary>
    public string Name => _name ?? throw new InvalidOperationException("This TrustDomain is the default value and holds no name.");

    /// <summary>Whether this instance holds a name (it does unless it is <c>default</c>).</summary>
    public bool IsValid => _name is not null;

    /// <summary>The SPIFFE ID of the trust domain itself, <c>spiffe://name</c>, as used in CA certificates.</summary>
    public SpiffeId Id => SpiffeId.CreateTrusted(SpiffeIdGrammar.Scheme + Name, SpiffeIdGrammar.Scheme.Length + Name.Length);

    /// <summary>Parses a canonical trust domain name.</summary>
    /// <exception cref="FormatException">The name breaks a SPIFFE rule; the message names it.</exception>
    public static TrustDomain Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryParse(name, out TrustDomain trustDomain, out SpiffeIdError error)
            ? trustDomain
            : throw SpiffeId.FormatError(name, error, "trust domain");
    }

    /// <summary>Parses a canonical trust domain name, reporting the broken rule.</summary>
    public static bool TryParse(string? name, out TrustDomain trustDomain, out SpiffeIdError error)
    {
        trustDomain = default;
        if (name is null)
        {
            error = SpiffeIdError.Empty;
            return false;
        }

        error = SpiffeIdGrammar.ValidateTrustDomain(name.AsSpan());
        if (error != SpiffeIdError.None)
        {
            return false;
        }

        trustDomain = new TrustDomain(name);
        return true;
    }

    /// <summary>Parses a canonical trust domain name from UTF-8 bytes.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8Name, out TrustDomain trustDomain, out SpiffeIdError error)
    {
        trustDomain = default;
        error = SpiffeIdGrammar.ValidateTrustDomain(utf8Name);
        if (error != SpiffeIdError.None)
        {
            return false;
        }

        trustDomain = new TrustDomain(Encoding.ASCII.GetString(utf8Name));
        return true;
    }

    /// <summary>
    /// Parses user input: accepts an optional <c>spiffe://</c> scheme in any case and folds ASCII upper-case letters to lower case.
    /// </summary>
    /// <exception cref="FormatException">The name still breaks a SPIFFE rule after folding.</exception>
    public static TrustDomain ParseNormalized(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string folded = AsciiCase.ToLower(name);
        if (folded.StartsWith(SpiffeIdGrammar.Scheme, StringComparison.Ordinal))
        {
            folded = folded[SpiffeIdGrammar.Scheme.Length..];
        }

        return Parse(folded);
    }

    internal static TrustDomain CreateTrusted(string name) => new(name);

    /// <inheritdoc />
    public bool Equals(TrustDomain other) => string.Equals(_name, other._name, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals([NotNullWhen(true)] object? obj) => obj is TrustDomain other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _name is null ? 0 : StringComparer.Ordinal.GetHashCode(_name);

    /// <summary>The trust domain name.</summary>
    public override string ToString() => _name ?? string.Empty;

    /// <summary>Compares two trust domains by name.</summary>
    public static bool operator ==(TrustDomain left, TrustDomain right) => left.Equals(right);

    /// <summary>Compares two trust domains by name.</summary>
    public static bool operator !=(TrustDomain left, TrustDomain right) => !left.Equals(right);
}
