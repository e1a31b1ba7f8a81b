using System.Runtime.CompilerServices;

namespace Mesh.Identity;

/// <summary>
/// The character rules of SPIFFE-ID §2, shared by the string and UTF-8 parsers so that both accept exactly the same IDs.
/// </summary>
internal static class SpiffeIdGrammar
{
    internal const string Scheme = "spiffe://";
    internal const int MaxTrustDomainLength = 255;

    internal static bool IsTrustDomainChar(int c) =>
        (uint)(c - 'a') <= 'z' - 'a' || (uint)(c - '0') <= 9 || c == '.' || c == '-' || c == '_';

    internal static bool IsPathChar(int c) =>
        (uint)(c - 'a') <= 'z' - 'a' || (uint)(c - 'A') <= 'Z' - 'A' || (uint)(c - '0') <= 9 || c == '.' || c == '-' || c == '_';

    /// <summary>Names the rule a character outside the trust-domain alphabet breaks.</summary>
    internal static SpiffeIdError ClassifyTrustDomainChar(int c) => c switch
    {
        ':' => SpiffeIdError.Port,
        '@' => SpiffeIdError.UserInfo,
        '%' => SpiffeIdError.PercentEncoding,
        '?' => SpiffeIdError.Query,
        '#' => SpiffeIdError.Fragment,
        '[' or ']' => SpiffeIdError.IPv6TrustDomain,
        >= 'A' and <= 'Z' => SpiffeIdError.TrustDomainUpperCase,
        _ => SpiffeIdError.TrustDomainInvalidCharacter,
    };

    /// <summary>Names the rule a character outside the path alphabet breaks.</summary>
    internal static SpiffeIdError ClassifyPathChar(int c) => c switch
    {
        '%' => SpiffeIdError.PercentEncoding,
        '?' => SpiffeIdError.Query,
        '#' => SpiffeIdError.Fragment,
        _ => SpiffeIdError.PathInvalidCharacter,
    };

    /// <summary>Validates a trust domain name (no scheme).</summary>
    internal static SpiffeIdError ValidateTrustDomain<T>(ReadOnlySpan<T> name) where T : unmanaged, IEquatable<T>
    {
        if (name.IsEmpty)
        {
            return SpiffeIdError.MissingTrustDomain;
        }

        for (int i = 0; i < name.Length; i++)
        {
            int c = ToInt(name[i]);
            if (!IsTrustDomainChar(c))
            {
                return ClassifyTrustDomainChar(c);
            }
        }

        return name.Length > MaxTrustDomainLength ? SpiffeIdError.TrustDomainTooLong : SpiffeIdError.None;
    }

    /// <summary>
    /// Validates a whole ID and returns where its path starts (the index of the first <c>/</c> after the authority, or the length when there is no path).
    /// </summary>
    internal static SpiffeIdError ValidateId<T>(ReadOnlySpan<T> id, out int pathStart) where T : unmanaged, IEquatable<T>
    {
        pathStart = 0;
        if (id.IsEmpty)
        {
            return SpiffeIdError.Empty;
        }

        if (!HasScheme(id))
        {
            return SpiffeIdError.WrongScheme;
        }

        int authorityEnd = Scheme.Length;
        while (authorityEnd < id.Length && ToInt(id[authorityEnd]) != '/')
        {
            authorityEnd++;
        }

        // "user:pass@host" would otherwise be reported as a port at the ':'; name the rule the input actually breaks.
        for (int i = Scheme.Length; i < authorityEnd; i++)
        {
            if (ToInt(id[i]) == '@')
            {
                return SpiffeIdError.UserInfo;
            }
        }

        SpiffeIdError error = ValidateTrustDomain(id[Scheme.Length..authorityEnd]);
        if (error != SpiffeIdError.None)
        {
            return error;
        }

        pathStart = authorityEnd;
        return ValidatePath(id[authorityEnd..]);
    }

    /// <summary>Validates a path: empty, or <c>/segment</c> repeated (SPIFFE-ID §2.2).</summary>
    internal static SpiffeIdError ValidatePath<T>(ReadOnlySpan<T> path) where T : unmanaged, IEquatable<T>
    {
        int i = 0;
        while (i < path.Length)
        {
            // path[i] is always '/' here: the authority or the previous segment ended on it.
            int segmentStart = ++i;
            while (i < path.Length && ToInt(path[i]) != '/')
            {
                int c = ToInt(path[i]);
                if (!IsPathChar(c))
                {
                    return ClassifyPathChar(c);
                }

                i++;
            }

            int segmentLength = i - segmentStart;
            if (segmentLength == 0)
            {
                return i == path.Length ? SpiffeIdError.TrailingSlash : SpiffeIdError.EmptySegment;
            }

            if (ToInt(path[segmentStart]) == '.' && (segmentLength == 1 || (segmentLength == 2 && ToInt(path[segmentStart + 1]) == '.')))
            {
                return SpiffeIdError.DotSegment;
            }
        }

        return SpiffeIdError.None;
    }

    /// <summary>Whether a single name is a valid path segment (used to build IDs from parts).</summary>
    internal static SpiffeIdError ValidateSegment(ReadOnlySpan<char> segment)
    {
        if (segment.IsEmpty)
        {
            return SpiffeIdError.EmptySegment;
        }

        foreach (char c in segment)
        {
            if (c == '/')
            {
                return SpiffeIdError.EmptySegment;
            }

            if (!IsPathChar(c))
            {
                return ClassifyPathChar(c);
            }
        }

        return segment is "." or ".." ? SpiffeIdError.DotSegment : SpiffeIdError.None;
    }

    internal static string Describe(SpiffeIdError error) => error switch
    {
        SpiffeIdError.None => "valid",
        SpiffeIdError.Empty => "the ID is empty",
        SpiffeIdError.WrongScheme => "the scheme must be 'spiffe://' in lower case",
        SpiffeIdError.MissingTrustDomain => "the trust domain is missing",
        SpiffeIdError.TrustDomainInvalidCharacter => "the trust domain may only hold the characters [a-z0-9.-_]",
        SpiffeIdError.TrustDomainUpperCase => "the trust domain must be lower case",
        SpiffeIdError.TrustDomainTooLong => "the trust domain is longer than 255 bytes",
        SpiffeIdError.Port => "a port is not allowed",
        SpiffeIdError.UserInfo => "user information is not allowed",
        SpiffeIdError.IPv6TrustDomain => "an IPv6 trust domain is not allowed",
        SpiffeIdError.EmptySegment => "a path segment is empty",
        SpiffeIdError.DotSegment => "a path segment is '.' or '..'",
        SpiffeIdError.TrailingSlash => "the path ends with '/'",
        SpiffeIdError.PathInvalidCharacter => "a path segment may only hold the characters [a-zA-Z0-9.-_]",
        SpiffeIdError.PercentEncoding => "percent-encoding is not allowed",
        SpiffeIdError.Query => "a query is not allowed",
        SpiffeIdError.Fragment => "a fragment is not allowed",
        _ => error.ToString(),
    };

    private static bool HasScheme<T>(ReadOnlySpan<T> id) where T : unmanaged, IEquatable<T>
    {
        if (id.Length < Scheme.Length)
        {
            return false;
        }

        for (int i = 0; i < Scheme.Length; i++)
        {
            if (ToInt(id[i]) != Scheme[i])
            {
                return false;
            }
        }

        return true;
    }

    // Both instantiations (char and byte) are specialised by the JIT; the other branch is removed and nothing is boxed.
    private static int ToInt<T>(T value) where T : unmanaged =>
        typeof(T) == typeof(byte) ? Unsafe.As<T, byte>(ref value) : Unsafe.As<T, char>(ref value);
}
