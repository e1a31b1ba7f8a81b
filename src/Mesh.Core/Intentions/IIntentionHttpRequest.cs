namespace Mesh.Intentions;

/// <summary>
/// What L7 intentions read of an HTTP request, with no web framework types. Implement it on a struct (or a ref struct)
/// over your framework's request; <see cref="IntentionSet.DecideHttp{TRequest}"/> is generic over it, so nothing is boxed.
/// </summary>
public interface IIntentionHttpRequest
{
    /// <summary>The method as received (<c>GET</c>); compared exactly with the permission's upper-case methods.</summary>
    ReadOnlySpan<char> Method { get; }

    /// <summary>The request target as received, path and optional query (<c>/v1/items?page=2</c>), not normalised.</summary>
    ReadOnlySpan<char> Target { get; }

    /// <summary>How many field lines carry this header (names compared without regard to case); 0 when it is missing.</summary>
    int GetHeaderCount(string name);

    /// <summary>The value of the <paramref name="index"/>-th field line of this header, in the order received.</summary>
    ReadOnlySpan<char> GetHeaderValue(string name, int index);
}
