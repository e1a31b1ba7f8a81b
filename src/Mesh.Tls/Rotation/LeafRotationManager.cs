using System.Security.Cryptography.X509Certificates;
using Mesh.ControlPlane;
using Mesh.Tls.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Rotation;

/// <summary>
/// Keeps a workload's leaf fresh and serves it as an <see cref="ILeafSource"/>: renews at a uniformly random point between 60 %
/// and 90 % of the leaf's lifetime (at once past 90 % or when the lifetime is under 10 minutes), and within a random 0–30 s after
/// the CA's signing key changes, as Consul's agent does (consul-semantics §4). Failures are logged and retried with backoff.
/// </summary>
/// <remarks>
/// A renewal publishes a new <see cref="LeafCertificate"/>; new handshakes pick it up, open connections keep the one they started with.
/// </remarks>
public sealed class LeafRotationManager : ILeafSource, IAsyncDisposable
{
    private static readonly TimeSpan ShortLifetime = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan RootChangeJitter = TimeSpan.FromSeconds(30);

    private readonly ILeafIssuer _issuer;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly LeafRotationOptions _options;
    private readonly Random _random;
    private readonly InMemoryLeafSource _source = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private Task? _loop;
    private CancellationTokenSource? _wake;
    private byte[] _leafAuthorityKeyId = [];
    private DateTimeOffset _renewAt;
    private DateTimeOffset _rootChangeRenewAt = DateTimeOffset.MaxValue;

    /// <summary>Creates a manager; call <see cref="Start"/> to obtain the first leaf and begin renewing.</summary>
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
        _logger = logger ?? NullLogger.Instance;
        _random = random;
    }

    /// <inheritdoc />
    public LeafCertificate? Current => _source.Current;

    /// <summary>Where renewals are counted: the host's meter when built under dependency injection.</summary>
    internal TlsMetrics Metrics { get; init; } = TlsMetrics.Shared;

    /// <summary>When the next renewal is due (the earlier of the lifetime window and a pending root change).</summary>
    public DateTimeOffset NextRenewal
    {
        get
        {
            lock (_lock)
            {
                return _rootChangeRenewAt < _renewAt ? _rootChangeRenewAt : _renewAt;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<LeafCertificate> GetLeafAsync(CancellationToken cancellationToken) => _source.GetLeafAsync(cancellationToken);

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _source.GetChangeToken();

    /// <summary>Starts renewing in the background; the first leaf is requested at once.</summary>
    /// <exception cref="InvalidOperationException">The manager was already started.</exception>
    public void Start()
    {
        lock (_lock)
        {
            if (_loop is not null)
            {
                throw new InvalidOperationException("The rotation manager is already running.");
            }

            _renewAt = _time.GetUtcNow();
            _issuer.GetSigningKeyChangeToken().RegisterChangeCallback(static state => ((LeafRotationManager)state!).OnSigningKeyChanged(), this);
            _loop = Task.Run(RunAsync);
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

        _stopping.Dispose();
    }

    /// <summary>Computes when a leaf should be renewed, as Consul's agent does.</summary>
    internal static DateTimeOffset ComputeRenewal(DateTimeOffset notBefore, DateTimeOffset notAfter, DateTimeOffset now, double uniform)
    {
        TimeSpan lifetime = notAfter - notBefore;
        if (lifetime < ShortLifetime || now >= notBefore + (lifetime * 0.9))
        {
            return now;
        }

        DateTimeOffset at = notBefore + (lifetime * (0.6 + (0.3 * uniform)));
        return at < now ? now : at;
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
                    DateTimeOffset at = ComputeRenewal(leaf.NotBefore, leaf.NotAfter, issuedAt, _random.NextDouble());
                    DateTimeOffset floor = issuedAt + _options.MinimumRenewalInterval;
                    _renewAt = at < floor ? floor : at;

                    // A root change that happened while this leaf was being issued still needs a renewal.
                    _rootChangeRenewAt = _issuer.ActiveSigningKeyId.Span.SequenceEqual(aki) ? DateTimeOffset.MaxValue : issuedAt;
                }

                _source.Set(leaf);
                failures = 0;
                Metrics.Renewed(succeeded: true);
                RotationLog.Renewed(_logger, leaf.Id.Value, leaf.NotBefore, leaf.NotAfter);
                RotationLog.Scheduled(_logger, NextRenewal, "60-90% of the lifetime");
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Any failure of the issuer is retried; the loop must survive it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failures++;
                double factor = Math.Pow(2, Math.Min(failures - 1, 30));
                TimeSpan delay = TimeSpan.FromTicks((long)Math.Min(_options.RetryInitialDelay.Ticks * factor, _options.RetryMaximumDelay.Ticks));
                DateTimeOffset retryAt = _time.GetUtcNow() + delay;
                lock (_lock)
                {
                    _renewAt = retryAt;
                    if (_rootChangeRenewAt < retryAt)
                    {
                        _rootChangeRenewAt = retryAt;
                    }
                }

                Metrics.Renewed(succeeded: false);
                RotationLog.Failed(_logger, ex, failures, delay);
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
