namespace Mesh.Endpoints;

/// <summary>
/// Round-robin order over a list of healthy endpoints: each connection starts one further along, and a caller that finds an
/// endpoint refusing moves on to the next in the same order, so one dead endpoint costs one retry, not a failure.
/// </summary>
/// <remarks>
/// Round robin rather than random: mesh connections are long-lived TCP sessions, and a strict rotation spreads them evenly with
/// no random-number state on the connect path; it is also deterministic, which makes failover observable in tests. The counter is
/// shared by all threads (one interlocked increment per connection) and never allocates.
/// </remarks>
public sealed class EndpointRotation
{
    private uint _next;

    /// <summary>The index to try first for a new connection to one of <paramref name="count"/> endpoints.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    public int NextStart(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return (int)((Interlocked.Increment(ref _next) - 1) % (uint)count);
    }

    /// <summary>
    /// Visits the endpoints in rotation order, starting at the next start index, until <paramref name="attempt"/> returns a result or
    /// every endpoint has been tried.
    /// </summary>
    /// <returns>The first non-null result, or null when every endpoint failed.</returns>
    public async ValueTask<TResult?> TryEachAsync<TEndpoint, TResult>(
        IReadOnlyList<TEndpoint> endpoints,
        Func<TEndpoint, CancellationToken, ValueTask<TResult?>> attempt,
        CancellationToken cancellationToken)
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(attempt);
        if (endpoints.Count == 0)
        {
            return null;
        }

        int start = NextStart(endpoints.Count);
        for (int i = 0; i < endpoints.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TResult? result = await attempt(endpoints[(start + i) % endpoints.Count], cancellationToken).ConfigureAwait(false);
            if (result is not null)
            {
                return result;
            }
        }

        return null;
    }
}
