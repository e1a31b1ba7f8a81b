using System.Security.Cryptography.X509Certificates;
using Mesh.Configuration;
using Mesh.ControlPlane;
using Mesh.Tls.Authority;
using Mesh.Tls.Configuration;
using Mesh.Tls.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Rotation;

/// <summary>
/// Keeps a workload's leaf fresh and serves it as an <see cref="ILeafSource"/>: renews at a uniformly random point between 60 %
/// and 90 % of the leaf's lifetime (between now and 90 % once 60 % has passed, at once only past 90 %), and within a random
/// 0–30 s after the CA's signing key changes, as Consul's agent does (consul-semantics §4). No answer of the CA makes it renew
/// more often than <see cref="LeafRotationOptions.MinimumRenewalInterval"/>. Transient failures (CA unreachable, 5xx, 429,
/// timeouts) are retried with exponential back-off and jitter; a refusal (wrong token, bad CSR) is not retried at that pace.
/// </summary>
/// <remarks>
/// A renewal publishes a new <see cref="LeafCertificate"/>; new handshakes pick it up, open connections keep the one they started with.
/// </remarks>
public sealed class LeafRotationManager : ILeafSource, IAsyncDisposable
{
    private static readonly TimeSpan RootChangeJitter = TimeSpan.FromSeconds(30);

    private readonly ILeafIssuer _issuer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LeafRotationOptions _options;
    private readonly Random _random;
    private readonly InMemoryLeafSource _source = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstLeaf = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private Task? _loop;
    private CancellationTokenSource? _wake;
    private byte[] _leafAuthorityKeyId = [];
    private DateTimeOffset _renewAt;
    private DateTimeOffset _rootChangeRenewAt = DateTimeOffset.MaxValue;
    private DateTimeOffset _lastIssuedAt = DateTimeOffset.MinValue;
    private int _staleIssuers;

    /// <summary>Creates a manager; call <see cref="StartAsync"/> to obtain the first leaf and begin renewing.</summary>
    public LeafRotationManager(ILeafIssuer issuer, TimeProvider? timeProvider = null, LeafRotationOptions? options = null, ILogger<LeafRotationManager>? logger = null)
        : this(issuer, timeProvider, options, logger, Random.Shared)
    {
    }

    internal LeafRotationManager(ILeafIssuer issuer, TimeProvider? timeProvider, LeafRotationOptions? options, ILogger? logger, Random random)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        _issuer = issuer;
        _time = timeProvider ?? TimeProvider.System;
        _options = options ?? new LeafRotationOptions();
        _options.ThrowIfInvalid(LeafRotationOptionsValidator.Instance);
        _logger = logger ?? NullLogger.Instance;
        _random = random;
    }

    /// <inheritdoc />
    public LeafCertificate? Current => _source.Current;

    /// <summary>Where renewals are counted: the host's meter when built under dependency injection.</summary>
    internal TlsMetrics Metrics { get; init; } = TlsMetrics.Shared;

    /// <summary>
    /// When the next renewal is due: the earlier of the lifetime window and a pending root change, never sooner than
    /// <see cref="LeafRotationOptions.MinimumRenewalInterval"/> after the last renewal.
    /// </summary>
    public DateTimeOffset NextRenewal
    {
        get
        {
            lock (_lock)
            {
                DateTimeOffset due = _rootChangeRenewAt < _renewAt ? _rootChangeRenewAt : _renewAt;
                DateTimeOffset floor = _lastIssuedAt == DateTimeOffset.MinValue ? DateTimeOffset.MinValue : _lastIssuedAt + _options.MinimumRenewalInterval;
                return due < floor ? floor : due;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<LeafCertificate> GetLeafAsync(CancellationToken cancellationToken) => _source.GetLeafAsync(cancellationToken);

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _source.GetChangeToken();

    /// <summary>
    /// Starts renewing in the background and completes when the first leaf is ready, so <see cref="Current"/> is usable when it
    /// returns. Transient failures (the CA unreachable, 5xx, 429, timeouts) are retried with back-off until then.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting for the first leaf (renewal keeps running until the manager is disposed).</param>
    /// <exception cref="CertificateSigningException">The CA refused for good (a wrong token, a CSR it will never sign); <see cref="CertificateSigningException.Error"/> names the rule.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before the first leaf arrived.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_loop is null)
            {
                StartLoop();
            }
        }

        return _firstLeaf.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Starts renewing in the background and returns at once; the first leaf is requested at once.</summary>
    /// <remarks>Prefer <see cref="StartAsync"/>: <see cref="Current"/> stays null until the first leaf arrives.</remarks>
    /// <exception cref="InvalidOperationException">The manager was already started.</exception>
    public void Start()
    {
        lock (_lock)
        {
            if (_loop is not null)
            {
                throw new InvalidOperationException("The rotation manager is already running.");
            }

            StartLoop();
        }
    }

    /// <summary>Stops renewing; the current leaf stays available.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _firstLeaf.TrySetCanceled();
        _stopping.Dispose();
    }

    /// <summary>
    /// Computes when a leaf should be renewed, as Consul's agent does: a uniform point in [60 %, 90 %] of the lifetime; once
    /// 60 % has passed, a uniform point in [now, 90 %], so a fleet restarted together spreads its renewals; past 90 %, now.
    /// Short lifetimes follow the same rule (the minimum interval bounds them further).
    /// </summary>
    internal static DateTimeOffset ComputeRenewal(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now, double uniform)
    {
        TimeSpan lifetime = notAfter - notBefore;
        DateTimeOffset windowStart = notBefore + (lifetime * 0.6);
        DateTimeOffset windowEnd = notBefore + (lifetime * 0.9);
        if (now >= windowEnd)
        {
            return now;
        }

        DateTimeOffset from = now > windowStart ? now : windowStart;
        return from + ((windowEnd - from) * uniform);
    }

    // Under _lock.
    private void StartLoop()
    {
        _renewAt = _time.GetUtcNow();
        _issuer.GetSigningKeyChangeToken().RegisterChangeCallback(static state => ((LeafRotationManager)state!).OnSigningKeyChanged(), this);
        _loop = Task.Run(RunAsync);
    }
    private void OnSigningKeyChanged()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        // Change tokens fire once: register for the next change first.
        _issuer.GetSigningKeyChangeToken().RegisterChangeCallback(static state => ((LeafRotationManager)state!).OnSigningKeyChanged(), this);
        CancellationTokenSource? wake;
        lock (_lock)
        {
            if (_source.Current is null || _issuer.ActiveSigningKeyId.Span.SequenceEqual(_leafAuthorityKeyId))
            {
                return;
            }

            DateTimeOffset at = _time.GetUtcNow() + (RootChangeJitter * _random.NextDouble());
            if (at < _rootChangeRenewAt)
            {
                _rootChangeRenewAt = at;
                RotationLog.Scheduled(_logger, at, "the CA's signing key changed");
            }

            wake = _wake;
        }

        // Outside the lock: cancelling may run the loop's continuation inline.
        try
        {
            wake?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task RunAsync()
    {
        int failures = 0;
        CancellationToken stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            DateTimeOffset now = _time.GetUtcNow();
            DateTimeOffset due = NextRenewal;
            // Timers have millisecond resolution: a renewal due within one is due now, or the loop would wake early forever.
            if (due - now >= TimeSpan.FromMilliseconds(1))
            {
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                lock (_lock)
                {
                    _wake = wake;
                }

                try
                {
                    // Re-read both: a root change or the clock may have moved since the top of the loop.
                    TimeSpan wait = NextRenewal - _time.GetUtcNow();
                    if (wait >= TimeSpan.FromMilliseconds(1))
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), _time, wake.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    lock (_lock)
                    {
                        _wake = null;
                    }
                }

                continue;
            }

            try
            {
                LeafCertificate leaf = await _issuer.IssueAsync(stopping).ConfigureAwait(false);
                DateTimeOffset issuedAt = _time.GetUtcNow();
                byte[] aki = ReadAuthorityKeyId(leaf.Certificate);
                lock (_lock)
                {
                    _leafAuthorityKeyId = aki;
                    _lastIssuedAt = issuedAt;
                    _renewAt = ComputeRenewal(leaf.NotBefore, leaf.NotAfter, issuedAt, _random.NextDouble());

                    // A root change that happened while this leaf was being issued still needs a renewal. A CA that keeps
                    // answering with an issuer other than the root it announces would otherwise be asked again at once, forever:
                    // each such answer in a row doubles the wait (from the minimum interval up to the retry maximum).
                    if (_issuer.ActiveSigningKeyId.IsEmpty || _issuer.ActiveSigningKeyId.Span.SequenceEqual(aki))
                    {
                        _staleIssuers = 0;
                        _rootChangeRenewAt = DateTimeOffset.MaxValue;
                    }
                    else
                    {
                        _staleIssuers++;
                        _rootChangeRenewAt = issuedAt + Backoff(_options.MinimumRenewalInterval, _staleIssuers, jitter: false);
                    }
                }

                _source.Set(leaf);
                failures = 0;
                _firstLeaf.TrySetResult();
                Metrics.Renewed(TlsMetrics.RenewalOk);
                RotationLog.Renewed(_logger, leaf.Id.Value, leaf.NotBefore, leaf.NotAfter);
                RotationLog.Scheduled(_logger, NextRenewal, "60-90% of the lifetime");
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (CertificateSigningException ex) when (IsPermanent(ex))
            {
                Metrics.Renewed(TlsMetrics.RenewalRefused);
                if (_firstLeaf.TrySetException(ex))
                {
                    // Nothing to renew and nothing retrying can fix: start-up fails with this refusal.
                    RotationLog.Refused(_logger, ex.Error.ToString(), ex.Message, TimeSpan.Zero);
                    return;
                }

                // The leaf in hand stays valid for a while; the token may be fixed in the meantime. Ask again, rarely.
                TimeSpan delay = _options.RetryMaximumDelay;
                RotationLog.Refused(_logger, ex.Error.ToString(), ex.Message, delay);
                PostponeTo(_time.GetUtcNow() + delay);
            }
#pragma warning disable CA1031 // Any other failure of the issuer is transient and retried; the loop must survive it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures++;
                TimeSpan delay = Backoff(_options.RetryInitialDelay, failures, jitter: true);
                PostponeTo(_time.GetUtcNow() + delay);
                Metrics.Renewed(TlsMetrics.RenewalFailed);
                RotationLog.Failed(_logger, failures, OneLine(ex), delay);
                RotationLog.FailedDetail(_logger, ex, failures);
            }
        }
    }

    // Wrong token (403) and CSRs the CA will never sign (400) are permanent; a rate limit (429) passes.
    private static bool IsPermanent(CertificateSigningException ex) => ex.Error != CertificateSigningError.RateLimited;

    private static string OneLine(Exception ex) => ex.Message.ReplaceLineEndings(" ");

    // Exponential from `initial`, capped at the retry maximum; with jitter, a uniform point in the upper half ("equal jitter"),
    // so workloads that failed together do not retry together.
    private TimeSpan Backoff(TimeSpan initial, int attempt, bool jitter)
    {
        double factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        TimeSpan cap = _options.RetryMaximumDelay > initial ? _options.RetryMaximumDelay : initial;
        TimeSpan delay = TimeSpan.FromTicks((long)Math.Min(initial.Ticks * factor, cap.Ticks));
        if (jitter)
        {
            delay = (delay / 2) + ((delay / 2) * _random.NextDouble());
        }

        // Whole milliseconds: timers have that resolution, and the loop must wake when the delay is over, not just before.
        return TimeSpan.FromMilliseconds(Math.Ceiling(delay.TotalMilliseconds));
    }

    private void PostponeTo(DateTimeOffset retryAt)
    {
        lock (_lock)
        {
            _renewAt = retryAt;
            if (_rootChangeRenewAt < retryAt)
            {
                _rootChangeRenewAt = retryAt;
            }
        }
    }

    private static byte[] ReadAuthorityKeyId(X509Certificate2 certificate)
    {
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is X509AuthorityKeyIdentifierExtension aki && aki.KeyIdentifier is { } id)
            {
                return id.ToArray();
            }
        }

        return [];
    }
}
