namespace Mesh.Intentions;

/// <summary>
/// A ready-made <see cref="IIntentionHttpRequest"/> over strings: the method, the request target and the header field lines
/// in the order received (a header sent twice appears twice).
/// </summary>
public readonly struct IntentionHttpRequest : IIntentionHttpRequest
{
    private readonly string? _method;
    private readonly string? _target;
    private readonly IReadOnlyList<KeyValuePair<string, string>>? _headers;

    /// <summary>Creates a request.</summary>
    public IntentionHttpRequest(string method, string target, IReadOnlyList<KeyValuePair<string, string>>? headers = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        _method = method;
        _target = target;
        _headers = headers;
    }

    /// <inheritdoc />
    public ReadOnlySpan<char> Method => _method;

    /// <inheritdoc />
    public ReadOnlySpan<char> Target => _target;

    /// <inheritdoc />
    public int GetHeaderCount(string name)
    {
        if (_headers is null)
        {
            return 0;
        }

        int count = 0;
        for (int i = 0; i < _headers.Count; i++)
        {
            if (string.Equals(_headers[i].Key, name, StringComparison.OrdinalIgnoreCase))
            {
                count++;
            }
        }

        return count;
    }

    /// <inheritdoc />
    public ReadOnlySpan<char> GetHeaderValue(string name, int index)
    {
        if (_headers is not null)
        {
            for (int i = 0; i < _headers.Count; i++)
            {
                if (string.Equals(_headers[i].Key, name, StringComparison.OrdinalIgnoreCase) && index-- == 0)
                {
                    return _headers[i].Value;
                }
            }
        }

        throw new ArgumentOutOfRangeException(nameof(index), "The header has fewer field lines.");
    }
}
