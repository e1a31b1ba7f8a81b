namespace Mesh.Intentions;

/// <summary>
/// Normalises a request path before L7 intentions compare it, as Consul configures Envoy since its path-bypass fix
/// (HTTP connection manager <c>normalize_path</c>, <c>merge_slashes</c>, and escaped slashes unescaped): otherwise
/// <c>/admin/../v1</c>, <c>//admin</c> or <c>/%2e%2e/admin</c> would slip past a <c>PathPrefix</c> rule.
/// </summary>
internal static class HttpPathNormalizer
{
    /// <summary>
    /// Writes the normalised path of <paramref name="target"/> (query and fragment dropped) into <paramref name="destination"/>,
    /// which must be at least as long as the target; returns its length, or -1 when the path is not usable.
    /// </summary>
    /// <remarks>
    /// In order: percent-encoded <c>/</c> and <c>\</c> are decoded (Envoy's UNESCAPE, done before normalisation); percent-encoded
    /// unreserved characters are decoded and other escapes upper-cased (RFC 3986 §6.2.2.1–2); <c>\</c> becomes <c>/</c>;
    /// dot segments are removed (RFC 3986 §5.2.4, never above the root); runs of <c>/</c> are merged. A target that does not
    /// start with <c>/</c> or holds a bad escape (<c>%zz</c>, a truncated <c>%4</c>) is refused.
    /// </remarks>
    public static int Normalize(ReadOnlySpan<char> target, Span<char> destination)
    {
        int end = target.IndexOfAny('?', '#');
        ReadOnlySpan<char> path = end < 0 ? target : target[..end];
        if (path.IsEmpty || path[0] != '/')
        {
            return -1;
        }

        int length = Decode(path, destination);
        if (length < 0)
        {
            return -1;
        }

        return RemoveDotSegmentsAndMergeSlashes(destination[..length]);
    }

    private static int Decode(ReadOnlySpan<char> path, Span<char> output)
    {
        int w = 0;
        for (int r = 0; r < path.Length; r++)
        {
            char c = path[r];
            if (c == '%')
            {
                if (r + 2 >= path.Length || !char.IsAsciiHexDigit(path[r + 1]) || !char.IsAsciiHexDigit(path[r + 2]))
                {
                    return -1;
                }

                int value = (HexValue(path[r + 1]) << 4) | HexValue(path[r + 2]);
                char decoded = (char)value;
                if (decoded is '/' or '\\')
                {
                    output[w++] = '/';
                }
                else if (char.IsAsciiLetterOrDigit(decoded) || decoded is '-' or '.' or '_' or '~')
                {
                    output[w++] = decoded;
                }
                else
                {
                    output[w++] = '%';
                    output[w++] = char.ToUpperInvariant(path[r + 1]);
                    output[w++] = char.ToUpperInvariant(path[r + 2]);
                }

                r += 2;
            }
            else
            {
                output[w++] = c == '\\' ? '/' : c;
            }
        }

        return w;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static int RemoveDotSegmentsAndMergeSlashes(Span<char> buffer)
    {
        int w = 0;
        int r = 0;
        bool trailingSlash = false;
        while (r < buffer.Length)
        {
            while (r < buffer.Length && buffer[r] == '/')
            {
                r++;
            }

            if (r == buffer.Length)
            {
                trailingSlash = true;
                break;
            }

            int start = r;
            while (r < buffer.Length && buffer[r] != '/')
            {
                r++;
            }

            int segmentLength = r - start;
            if (segmentLength == 1 && buffer[start] == '.')
            {
                trailingSlash = true;
                continue;
            }

            if (segmentLength == 2 && buffer[start] == '.' && buffer[start + 1] == '.')
            {
                int lastSlash = buffer[..w].LastIndexOf('/');
                w = lastSlash < 0 ? 0 : lastSlash;
                trailingSlash = true;
                continue;
            }

            // Writing never overtakes reading: each segment is written at or before where it was read.
            buffer[w++] = '/';
            buffer.Slice(start, segmentLength).CopyTo(buffer[w..]);
            w += segmentLength;
            trailingSlash = false;
        }

        if (trailingSlash || w == 0)
        {
            buffer[w++] = '/';
        }

        return w;
    }
}
