using Mesh.ControlPlane;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Mesh.Consul.Client;

/// <summary>
/// One Consul blocking query run in a loop, as Consul's documentation prescribes: the first read without an index, then
/// <c>index</c>/<c>wait</c> (or the agent's <c>hash</c>); an index that goes backwards resets to 0; an index of 0 is never blocked on
/// (1 is used); a round that returns sooner than <see cref="ConsulOptions.MinimumRoundInterval"/> waits out the rest with jitter; a
/// failed round backs off exponentially with jitter. A returned answer is parsed and compared with the current value before
/// <c>onChanged</c> runs and the tokens of <see cref="GetChangeToken"/> fire, because a return does not mean a change.
/// </summary>
/// <remarks>
/// Through a failure the last good value stays current; the failure is logged once when it starts (per failure class) and once
/// when the query answers again. A 403 is permanent: the loop stops and <see cref="FirstValue"/> fails with
/// <see cref="ConsulPermissionDeniedException"/>.
/// </remarks>
internal sealed class BlockingQuery<T> : IAgedValue, IAsyncDisposable
    where T : class
{
    private readonly ConsulAgentClient _client;
    private readonly ConsulRequest _request;
    private readonly bool _hashBlocking;
    private readonly Func<ConsulResponse, CancellationToken, ValueTask<T>> _parse;
    private readonly Func<T, T, bool> _same;
    private readonly Action<T>? _onChanged;
    private readonly ChangeNotifier _changed = new();
    private readonly ILogger _logger;
    private readonly TimeSpan? _minimumRoundInterval;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<T> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _loop = Task.CompletedTask;
    private T? _current;
    private long _lastGoodTimestamp = -1;

    // onChanged: what the owner does with a new value before the change tokens fire (null when the tokens are all it needs).
    // minimumRoundInterval: the shortest time between rounds for an endpoint that cannot block and is polled instead
    // (ConsulOptions.MinimumRoundInterval when null).
    public BlockingQuery(ConsulAgentClient client, string name, string kind, ConsulRequest request, bool hashBlocking, Func<ConsulResponse, CancellationToken, ValueTask<T>> parse, Func<T, T, bool> same, Action<T>? onChanged, ILogger logger, TimeSpan? minimumRoundInterval = null)
    {
        _minimumRoundInterval = minimumRoundInterval;
        _client = client;
        Name = name;
        Kind = kind;
        _request = request;
        _hashBlocking = hashBlocking;
        _parse = parse;
        _same = same;
        _onChanged = onChanged;
        _logger = logger;
    }

    /// <summary>Names the query in log lines and metrics, e.g. <c>leaf web</c>.</summary>
    public string Name { get; }

    /// <summary>The kind of query for the metric tag, e.g. <c>leaf</c>.</summary>
    public string Kind { get; }

    public T? Current => Volatile.Read(ref _current);

    /// <summary>Completes with the first value, or fails with the permanent error that stopped the query.</summary>
    public Task<T> FirstValue => _first.Task;

    /// <summary>The current value, or the first one once it arrives (without a task when a value is in).</summary>
    /// <exception cref="ConsulPermissionDeniedException">The query stopped on a 403 before its first value.</exception>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken)
    {
        T? current = Current;
        return current is not null ? ValueTask.FromResult(current) : new ValueTask<T>(FirstValue.WaitAsync(cancellationToken));
    }

    /// <summary>A token that fires when <see cref="Current"/> changes.</summary>
    public IChangeToken GetChangeToken() => _changed.GetChangeToken();

    /// <summary>The permanent error that stopped the query (a 403), if any.</summary>
    public Exception? Fault { get; private set; }

    public TimeSpan? Age
    {
        get
        {
            long last = Interlocked.Read(ref _lastGoodTimestamp);
            return last < 0 ? null : _client.TimeProvider.GetElapsedTime(last);
        }
    }

    public void Start()
    {
        ConsulMetrics.Track(this);
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    public async ValueTask DisposeAsync()
    {
        ConsulMetrics.Untrack(this);
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _first.TrySetCanceled();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        ulong index = 0;
        string? hash = null;
        int failures = 0;
        ConsulFailureClass? failing = null;
        TimeProvider time = _client.TimeProvider;
        while (!cancellationToken.IsCancellationRequested)
        {
            long started = time.GetTimestamp();
            TimeSpan delay;
            try
            {
                ConsulResponse response = await _client.SendAsync(
                    _request,
                    _hashBlocking || index == 0 ? null : index,
                    _hashBlocking ? hash : null,
                    cancellationToken).ConfigureAwait(false);

                T value;
                try
                {
                    value = await _parse(response, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not (OperationCanceledException or ConsulRequestException or ConsulPermissionDeniedException))
                {
                    throw new ConsulRequestException(ConsulFailureClass.InvalidResponse, exception.Message, exception);
                }

                if (_hashBlocking)
                {
                    hash = response.ContentHash;
                }
                else if (response.Index is { } next)
                {
                    if (next < index)
                    {
                        // Consul: "reset the index if it goes backwards" (an agent restart or a snapshot restore); the next read is a
                        // plain read that picks up the new index.
                        ConsulLog.IndexReset(_logger, Name, index, next);
                        index = 0;
                    }
                    else
                    {
                        // Consul: never block on 0, which returns at once; 1 blocks until anything is written.
                        index = Math.Max(next, 1);
                    }
                }

                Interlocked.Exchange(ref _lastGoodTimestamp, time.GetTimestamp());
                ConsulMetrics.Round(Kind, "ok");
                if (failing is not null)
                {
                    ConsulLog.Recovered(_logger, Name, _client.AgentAddress, failures);
                    failing = null;
                }

                failures = 0;
                T? current = Current;
                if (current is null || !_same(current, value))
                {
                    Volatile.Write(ref _current, value);
                    ConsulLog.Changed(_logger, Name, response.Index);
                    _onChanged?.Invoke(value);
                    _changed.NotifyChanged();
                    _first.TrySetResult(value);
                }

                // Consul asks clients to rate-limit loops that return at once; the jitter spreads many clients apart.
                TimeSpan elapsed = time.GetElapsedTime(started);
                TimeSpan minimum = _minimumRoundInterval ?? _client.Options.MinimumRoundInterval;
                delay = elapsed >= minimum ? TimeSpan.Zero : minimum - elapsed + Jitter(minimum / 4);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (ConsulPermissionDeniedException exception)
            {
                ConsulMetrics.Round(Kind, ConsulMetrics.ResultName(ConsulFailureClass.PermissionDenied));
                ConsulLog.PermissionDenied(_logger, Name, exception.Message);
                Fault = exception;
                _first.TrySetException(exception);
                return;
            }
            catch (ConsulRequestException exception)
            {
                failures++;
                ConsulMetrics.Round(Kind, ConsulMetrics.ResultName(exception.FailureClass));
                if (failing != exception.FailureClass)
                {
                    // Once per outage and class, not per retry: the retries of a long outage would drown every other line.
                    LogFailure(exception);
                    failing = exception.FailureClass;
                }

                delay = Backoff(failures);
            }

            if (delay > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void LogFailure(ConsulRequestException exception)
    {
        switch (exception.FailureClass)
        {
            case ConsulFailureClass.Unreachable:
                ConsulLog.Unreachable(_logger, Name, _client.AgentAddress, exception.InnerException?.Message ?? exception.Message, Age);
                break;
            case ConsulFailureClass.Timeout:
                ConsulLog.TimedOut(_logger, Name, _client.AgentAddress, Age);
                break;
            case ConsulFailureClass.ServerError:
                ConsulLog.ServerError(_logger, Name, _client.AgentAddress, exception.Message, Age);
                break;
            case ConsulFailureClass.NotFound:
                ConsulLog.NotFound(_logger, Name, exception.Message, Age);
                break;
            default:
                ConsulLog.InvalidResponse(_logger, Name, exception.Message, Age);
                break;
        }
    }

    // Exponential back-off with "equal jitter": half the delay fixed, half random, so that many data planes retrying against one
    // restarted agent spread out.
    private TimeSpan Backoff(int failures)
    {
        ConsulOptions options = _client.Options;
        double factor = Math.Pow(2, Math.Min(failures - 1, 16));
        TimeSpan ceiling = TimeSpan.FromTicks((long)Math.Min(options.MaximumRetryDelay.Ticks, options.MinimumRetryDelay.Ticks * factor));
        return (ceiling / 2) + Jitter(ceiling / 2);
    }

#pragma warning disable CA5394 // Jitter spreads retries; it protects nothing.
    private static TimeSpan Jitter(TimeSpan range) => range <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * range.Ticks));
#pragma warning restore CA5394
}
