using System.Net;

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
    private readonly EndpointOutlierDetector? _outliers;
    private uint _next;

    /// <summary>A rotation over every endpoint it is given.</summary>
    public EndpointRotation()
    {
    }

    /// <summary>
    /// A rotation that skips the endpoints <paramref name="outliers"/> has ejected (all are tried when all are ejected) and reports
    /// each attempt of <see cref="TryEachAsync"/> to it; endpoints must then be <see cref="EndPoint"/>s.
    /// </summary>
    public EndpointRotation(EndpointOutlierDetector? outliers)
    {
        _outliers = outliers;
    }

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

        // Endpoints are EndPoints (reference types) whenever outliers are tracked: the list is then readable as one by covariance.
        EndpointOutlierDetector? outliers = _outliers;
        IReadOnlyList<EndPoint>? addresses = outliers is null ? null : endpoints as IReadOnlyList<EndPoint>;
        bool skipEjected = addresses is not null && outliers!.HasAvailable(addresses);
        int start = NextStart(endpoints.Count);
        for (int i = 0; i < endpoints.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int index = (start + i) % endpoints.Count;
            if (skipEjected && outliers!.IsEjected(addresses![index]))
            {
                continue;
            }

            TResult? result = await attempt(endpoints[index], cancellationToken).ConfigureAwait(false);
            if (addresses is not null)
            {
                if (result is null)
                {
                    outliers!.ReportFailure(addresses[index]);
                }
                else
                {
                    outliers!.ReportSuccess(addresses[index]);
                }
            }

            if (result is not null)
            {
                return result;
            }
        }

        return null;
    }
}
