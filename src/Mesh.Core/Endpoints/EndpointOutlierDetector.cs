using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Mesh.Configuration;
using Mesh.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mesh.Endpoints;

/// <summary>
/// Takes endpoints that refuse connections out of rotation, as Envoy's outlier detection does: after
/// <see cref="OutlierDetectionOptions.ConsecutiveFailures"/> connect failures in a row an endpoint is ejected for
/// <see cref="OutlierDetectionOptions.BaseEjectionTime"/> times the number of its ejections (capped at
/// <see cref="OutlierDetectionOptions.MaxEjectionTime"/>); when the period is over it is tried again, and its first connection is
/// the probe that decides whether it stays. A list whose every endpoint is ejected is tried whole (Envoy's panic mode, the spirit
/// of <c>max_ejection_percent</c>): ejection never leaves a caller with nothing to try.
/// </summary>
/// <remarks>
/// <para>
/// The detector also keeps the rotation a connection starts at (<see cref="NextStart"/>, <see cref="TryEachAsync"/>): round robin,
/// each connection one endpoint further along, and a caller that finds an endpoint refusing moves on to the next in the same
/// order, so one dead endpoint costs one retry, not a failure. Round robin rather than random: mesh connections are long-lived
/// TCP sessions, and a strict rotation spreads them evenly with no random-number state on the connect path; it is also
/// deterministic, which makes failover observable in tests. The counter is one interlocked increment per connection.
/// </para>
/// <para>
/// One detector serves every connection of a gateway or sidecar, from any thread. Only endpoints that have failed are tracked;
/// while none is ejected, <see cref="IsEjected"/> and <see cref="HasAvailable"/> read one field and
/// <see cref="ReportSuccess"/> another, so a healthy mesh pays no lookup on its connect path.
/// </para>
/// </remarks>
public sealed class EndpointOutlierDetector
{
    // Endpoints that failed and then left the catalog are forgotten once this many are tracked and their last failure is old.
    private const int ForgetAbove = 1024;

    private static readonly Meter s_meter = new(MeshMetrics.EndpointsMeter);

    private readonly ConcurrentDictionary<EndPoint, EndpointOutlierState> _states = new();
    private readonly OutlierDetectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Counter<long> _ejections;
    private readonly string _component;
    private int _tracked;
    private int _ejected;
    private uint _nextStart;

    /// <summary>Creates a detector.</summary>
    /// <param name="component">Who connects (<c>gateway</c>, <c>sidecar</c>): the <c>mesh.component</c> tag of the ejection count.</param>
    /// <param name="options">When to eject and for how long; <see cref="OutlierDetectionOptions.Default"/> when null.</param>
    /// <param name="timeProvider">The clock of the ejection periods; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="logger">Receives a line for each ejection and return.</param>
    /// <param name="meterFactory">Creates the <see cref="MeshMetrics.EndpointsMeter"/> meter; a shared one when null.</param>
    /// <exception cref="OptionsValidationException">An option is out of range; the message names it.</exception>
    public EndpointOutlierDetector(string component, OutlierDetectionOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(component);
        options ??= OutlierDetectionOptions.Default;
        options.ThrowIfInvalid(OutlierDetectionOptionsValidator.Default);
        _component = component;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        Meter meter = meterFactory?.Create(MeshMetrics.EndpointsMeter) ?? s_meter;
        _ejections = meter.CreateCounter<long>(MeshMetrics.EndpointEjections, description: "Endpoints taken out of rotation after consecutive connect failures.");
    }

    /// <summary>How many endpoints are ejected now (an ejection whose period is over counts until the endpoint is next looked at).</summary>
    public int EjectedCount => Volatile.Read(ref _ejected);

    /// <summary>Whether <paramref name="endpoint"/> is out of rotation now; an endpoint whose period is over returns here.</summary>
    public bool IsEjected(EndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (Volatile.Read(ref _ejected) == 0 || !_states.TryGetValue(endpoint, out EndpointOutlierState? state))
        {
            return false;
        }

        lock (state.Sync)
        {
            if (!state.Ejected)
            {
                return false;
            }

            if (_time.GetUtcNow().UtcTicks < state.EjectedUntil)
            {
                return true;
            }

            state.Ejected = false;
            state.OnProbation = true;
            Interlocked.Decrement(ref _ejected);
        }

        EndpointLog.Returned(_logger, endpoint);
        return false;
    }

    /// <summary>
    /// Whether any endpoint of <paramref name="endpoints"/> is in rotation. When none is, a caller tries them all rather than
    /// none: ejection must not turn a cluster that may have recovered into one that cannot.
    /// </summary>
    public bool HasAvailable(IReadOnlyList<EndPoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (Volatile.Read(ref _ejected) == 0)
        {
            return true;
        }

        for (int i = 0; i < endpoints.Count; i++)
        {
            if (!IsEjected(endpoints[i]))
            {
                return true;
            }
        }

        if (endpoints.Count > 0)
        {
            EndpointLog.AllEjected(_logger, endpoints.Count);
        }

        return false;
    }

    /// <summary>The index to try first for a new connection to one of <paramref name="count"/> endpoints: one further along each time.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is not positive.</exception>
    public int NextStart(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        return (int)((Interlocked.Increment(ref _nextStart) - 1) % (uint)count);
    }

    /// <summary>
    /// Visits <paramref name="endpoints"/> in rotation order, starting at <see cref="NextStart"/>, until <paramref name="attempt"/>
    /// returns a result or every endpoint has been tried. Ejected endpoints are skipped unless every one is ejected; each attempt is
    /// reported (<see cref="ReportSuccess"/>, <see cref="ReportFailure"/>).
    /// </summary>
    /// <returns>The first non-null result, or null when every endpoint failed or there is none.</returns>
    public async ValueTask<TResult?> TryEachAsync<TEndpoint, TResult>(
        IReadOnlyList<TEndpoint> endpoints,
        Func<TEndpoint, CancellationToken, ValueTask<TResult?>> attempt,
        CancellationToken cancellationToken)
        where TEndpoint : EndPoint
        where TResult : class
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(attempt);
        if (endpoints.Count == 0)
        {
            return null;
        }

        bool skipEjected = HasAvailable(endpoints);
        int start = NextStart(endpoints.Count);
        for (int i = 0; i < endpoints.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TEndpoint endpoint = endpoints[(start + i) % endpoints.Count];
            if (skipEjected && IsEjected(endpoint))
            {
                continue;
            }

            TResult? result = await attempt(endpoint, cancellationToken).ConfigureAwait(false);
            if (result is null)
            {
                ReportFailure(endpoint);
                continue;
            }

            ReportSuccess(endpoint);
            return result;
        }

        return null;
    }

    /// <summary>Records that connecting to <paramref name="endpoint"/> failed; the failure that crosses the threshold ejects it.</summary>
    /// <returns>Whether this failure ejected the endpoint.</returns>
    public bool ReportFailure(EndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        long now = _time.GetUtcNow().UtcTicks;
        while (true)
        {
            if (!_states.TryGetValue(endpoint, out EndpointOutlierState? state))
            {
                var created = new EndpointOutlierState();
                if (!_states.TryAdd(endpoint, created))
                {
                    continue;
                }

                state = created;
                if (Interlocked.Increment(ref _tracked) > ForgetAbove)
                {
                    ForgetOld(now);
                }
            }

            int failures;
            int ejections;
            TimeSpan period;
            lock (state.Sync)
            {
                if (state.Forgotten)
                {
                    // A success (or the clean-up) removed it meanwhile: count the failure on a fresh entry.
                    continue;
                }

                state.LastFailure = now;
                if (state.Ejected)
                {
                    // A connection tried it while every endpoint was ejected: the ejection already stands.
                    return false;
                }

                failures = ++state.ConsecutiveFailures;
                if (failures < _options.ConsecutiveFailures && !state.OnProbation)
                {
                    return false;
                }

                ejections = ++state.Ejections;
                long ticks = Math.Min(_options.BaseEjectionTime.Ticks * (long)ejections, _options.MaxEjectionTime.Ticks);
                period = TimeSpan.FromTicks(ticks);
                state.EjectedUntil = now + ticks;
                state.Ejected = true;
                state.OnProbation = false;
                state.ConsecutiveFailures = 0;
                Interlocked.Increment(ref _ejected);
            }

            _ejections.Add(1, new KeyValuePair<string, object?>(MeshMetrics.ComponentTag, _component));
            EndpointLog.Ejected(_logger, endpoint, period.TotalSeconds, failures, ejections);
            return true;
        }
    }

    /// <summary>Records that a connection to <paramref name="endpoint"/> succeeded: its failures are forgotten.</summary>
    public void ReportSuccess(EndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (Volatile.Read(ref _tracked) == 0 || !_states.TryGetValue(endpoint, out EndpointOutlierState? state))
        {
            return;
        }

        lock (state.Sync)
        {
            if (state.Ejected)
            {
                // Tried while every endpoint was ejected, and it answered: back in rotation at once.
                state.Ejected = false;
                Interlocked.Decrement(ref _ejected);
            }

            // Forgetting the endpoint also resets its ejection multiplier, as Envoy lowers it again while a host stays healthy.
            Forget(endpoint, state);
        }
    }

    // Under the state's lock.
    private void Forget(EndPoint endpoint, EndpointOutlierState state)
    {
        if (!state.Forgotten && _states.TryRemove(new KeyValuePair<EndPoint, EndpointOutlierState>(endpoint, state)))
        {
            state.Forgotten = true;
            Interlocked.Decrement(ref _tracked);
        }
    }

    // Drops endpoints that are not ejected and have not failed for the longest ejection period: they left the catalog, or recovered
    // without a connection since.
    private void ForgetOld(long now)
    {
        long before = now - _options.MaxEjectionTime.Ticks;
        foreach (KeyValuePair<EndPoint, EndpointOutlierState> entry in _states)
        {
            EndpointOutlierState state = entry.Value;
            lock (state.Sync)
            {
                if (!state.Ejected && state.LastFailure != 0 && state.LastFailure < before)
                {
                    Forget(entry.Key, state);
                }
            }
        }
    }
}
