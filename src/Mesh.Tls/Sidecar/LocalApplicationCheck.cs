using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Mesh.Diagnostics;
using Mesh.Identity;
using Mesh.Splicing;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Sidecar;

/// <summary>
/// The sidecar's check of its local application, as Consul's TCP check: a connect on an interval, passing when it succeeds,
/// critical when it is refused or times out. A failed connect of an inbound connection runs the check at once, so traffic
/// finds a dead application within one connect rather than one interval.
/// </summary>
/// <remarks>
/// After each run the sidecar is told the result (<c>apply</c>), every time rather than on a change only: acting on it
/// (re-opening the public listener) may fail and must be retried on the next run. Changes are logged and counted.
/// </remarks>
internal sealed class LocalApplicationCheck : IAsyncDisposable
{
    private static readonly Meter s_meter = new(MeshMetrics.EndpointsMeter);
    private static readonly Counter<long> s_transitions =
        s_meter.CreateCounter<long>(MeshMetrics.LocalAppHealthTransitions, description: "Changes of a sidecar's local-application check, by new state.");

    private readonly IPEndPoint _target;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ServiceIdentity _service;
    private readonly Action<bool> _apply;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private volatile bool _healthy = true;

    public LocalApplicationCheck(IPEndPoint target, TimeSpan interval, TimeSpan timeout, TimeProvider time, ServiceIdentity service, Action<bool> apply, ILogger logger)
    {
        _target = target;
        _interval = interval;
        _timeout = timeout;
        _time = time;
        _service = service;
        _apply = apply;
        _logger = logger;
    }

    /// <summary>The result of the last run; true before the first.</summary>
    public bool IsHealthy => _healthy;

    /// <summary>Runs the check once (so the sidecar starts in the right state), then on the interval until disposed.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await RunOnceAsync(cancellationToken).ConfigureAwait(false);
        _loop = LoopAsync(_stopping.Token);
    }

    /// <summary>Runs the check now rather than at the end of the interval: an inbound connection could not reach the application.</summary>
    public void RunNow() => Volatile.Read(ref _wake).TrySetResult();

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                TaskCompletionSource wake = Volatile.Read(ref _wake);
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    Task delay = Task.Delay(_interval, _time, wait.Token);
                    await Task.WhenAny(delay, wake.Task).ConfigureAwait(false);
                    await wait.CancelAsync().ConfigureAwait(false);
                }

                if (wake.Task.IsCompleted)
                {
                    Interlocked.CompareExchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), wake);
                }

                cancellationToken.ThrowIfCancellationRequested();
                await RunOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                // Acting on the result failed (the listener could not be re-opened, say): the next run tries again.
                SidecarLog.LocalAppCheckFailed(_logger, _service, _target, ex.Message);
            }
        }
    }

    private async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        (Socket? socket, Exception? error) = await OutboundConnector.TryConnectAsync(_target, null, _timeout, cancellationToken).ConfigureAwait(false);
        socket?.Dispose();
        bool healthy = socket is not null;
        if (healthy != _healthy)
        {
            _healthy = healthy;
            s_transitions.Add(1, new KeyValuePair<string, object?>(MeshMetrics.ResultTag, healthy ? "healthy" : "unhealthy"));
            if (healthy)
            {
                SidecarLog.LocalAppHealthy(_logger, _service, _target);
            }
            else
            {
                SidecarLog.LocalAppUnhealthy(_logger, _service, _target, error?.Message ?? "no connection");
            }
        }

        _apply(healthy);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
    }
}
