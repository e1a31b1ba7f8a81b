using System.Net;
using System.Net.Sockets;
using Mesh.Identity;
using Mesh.Tls.Outbound;
using Microsoft.Extensions.Logging;

namespace Mesh.Tls.Sidecar;

/// <summary>
/// The upstream listeners of a running sidecar, as a set that changes while it runs: an update binds the new upstreams, closes the
/// removed ones at once and drains their connections in the background until the update's deadline or the sidecar's own stop.
/// </summary>
internal sealed class SidecarUpstreams : IDisposable
{
    private readonly ServiceIdentity _service;
    private readonly Action<Socket, SidecarUpstreamListener> _onAccepted;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    // Fired when the sidecar's own drain is over (StopAsync's deadline, DisposeAsync): upstreams removed earlier and still
    // draining reset their connections then too.
    private readonly CancellationTokenSource _drainOver = new();
    private readonly List<Task> _drains = [];
    private readonly List<SidecarUpstreamListener> _draining = [];
    private List<SidecarUpstreamListener> _current = [];
    private bool _started;
    private bool _stopped;

    /// <param name="service">The sidecar's service: the parts an upstream leaves null are its own.</param>
    /// <param name="onAccepted">Handles a connection accepted by an upstream listener.</param>
    /// <param name="logger">Where listeners starting, failing and draining are logged.</param>
    public SidecarUpstreams(ServiceIdentity service, Action<Socket, SidecarUpstreamListener> onAccepted, ILogger logger)
    {
        _service = service;
        _onAccepted = onAccepted;
        _logger = logger;
    }

    /// <summary>Where each current upstream listener accepts, in the order of the current set.</summary>
    public IReadOnlyList<IPEndPoint> EndPoints
    {
        get
        {
            List<SidecarUpstreamListener> current = Volatile.Read(ref _current);
            var endPoints = new List<IPEndPoint>(current.Count);
            foreach (SidecarUpstreamListener upstream in current)
            {
                endPoints.Add(upstream.EndPoint);
            }

            return endPoints;
        }
    }

    /// <summary>The open connections of every upstream, removed ones still draining included.</summary>
    public int Active
    {
        get
        {
            int active = 0;
            foreach (SidecarUpstreamListener upstream in Volatile.Read(ref _current))
            {
                active += upstream.Connections.Active;
            }

            lock (_lock)
            {
                foreach (SidecarUpstreamListener upstream in _draining)
                {
                    active += upstream.Connections.Active;
                }
            }

            return active;
        }
    }

    /// <summary>Where the listener of <paramref name="upstream"/> (matched by value) accepts; null when it does not listen.</summary>
    public IPEndPoint? Find(MeshUpstream upstream)
    {
        if (upstream.LocalBindAddress is not { } bind || upstream.Name is null)
        {
            return null;
        }

        MeshDialTarget target = upstream.ToTarget(_service);
        foreach (SidecarUpstreamListener listener in Volatile.Read(ref _current))
        {
            if (listener.Serves(target, bind))
            {
                return listener.EndPoint;
            }
        }

        return null;
    }

    /// <summary>Binds the upstreams of the sidecar's options; at start one that cannot be bound fails the start.</summary>
    /// <exception cref="SocketException">An upstream's address cannot be bound.</exception>
    public void Start(IEnumerable<MeshUpstream> upstreams)
    {
        var listeners = new List<SidecarUpstreamListener>();
        lock (_lock)
        {
            try
            {
                foreach (MeshUpstream upstream in upstreams)
                {
                    listeners.Add(Open(upstream, upstream.ToTarget(_service)));
                }
            }
            finally
            {
                Volatile.Write(ref _current, listeners);
                _started = true;
            }
        }
    }

    /// <summary>Applies a new set (see <see cref="MeshSidecar.UpdateUpstreams"/>).</summary>
    /// <exception cref="InvalidOperationException">Not running.</exception>
    public SidecarUpstreamUpdate Update(IReadOnlyList<MeshUpstream> upstreams, CancellationToken cancellationToken)
    {
        var wanted = new List<(MeshUpstream Upstream, MeshDialTarget Target)>(upstreams.Count);
        foreach (MeshUpstream upstream in upstreams)
        {
            wanted.Add((upstream, upstream.ToTarget(_service)));
        }

        var added = new List<MeshUpstream>();
        var failed = new List<SidecarUpstreamFailure>();
        List<SidecarUpstreamListener> removed;
        lock (_lock)
        {
            if (!_started || _stopped)
            {
                throw new InvalidOperationException("The sidecar's upstreams change only while it runs: after StartAsync and before StopAsync.");
            }

            removed = [.. _current];
            var kept = new SidecarUpstreamListener?[wanted.Count];
            for (int i = 0; i < wanted.Count; i++)
            {
                int match = removed.FindIndex(l => l.Serves(wanted[i].Target, wanted[i].Upstream.LocalBindAddress!));
                if (match >= 0)
                {
                    kept[i] = removed[match];
                    removed.RemoveAt(match);
                }
            }

            // Removed listeners close first, so an upstream that moved to another destination can take over its port.
            foreach (SidecarUpstreamListener listener in removed)
            {
                listener.CloseListener();
                _draining.Add(listener);
            }

            var next = new List<SidecarUpstreamListener>(wanted.Count);
            for (int i = 0; i < wanted.Count; i++)
            {
                if (kept[i] is { } listener)
                {
                    next.Add(listener);
                    continue;
                }

                try
                {
                    next.Add(Open(wanted[i].Upstream, wanted[i].Target));
                    added.Add(wanted[i].Upstream);
                }
                catch (SocketException ex)
                {
                    SidecarLog.UpstreamListenerFailed(_logger, _service, wanted[i].Upstream, ex.Message);
                    failed.Add(new SidecarUpstreamFailure(wanted[i].Upstream, ex));
                }
            }

            Volatile.Write(ref _current, next);
        }

        var removedUpstreams = new List<MeshUpstream>(removed.Count);
        foreach (SidecarUpstreamListener listener in removed)
        {
            removedUpstreams.Add(listener.Upstream);
            SidecarLog.UpstreamRemoved(_logger, _service, listener.Upstream, listener.Connections.Active);
        }

        Task drained = removed.Count == 0 ? Task.CompletedTask : Drain(removed, cancellationToken);
        return new SidecarUpstreamUpdate(added, removedUpstreams, failed, drained);
    }

    /// <summary>
    /// Stops accepting on every upstream, waits for their connections (and those of upstreams removed earlier) until
    /// <paramref name="cancellationToken"/> fires, then resets the rest.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        List<SidecarUpstreamListener> current;
        Task[] drains;
        lock (_lock)
        {
            _stopped = true;
            current = _current;
            drains = [.. _drains];
        }

        await using (cancellationToken.Register(static state => ((CancellationTokenSource)state!).Cancel(), _drainOver).ConfigureAwait(false))
        {
            var stops = new List<Task>(current.Count + drains.Length);
            foreach (SidecarUpstreamListener upstream in current)
            {
                stops.Add(upstream.StopAsync(cancellationToken));
            }

            stops.AddRange(drains);
            await Task.WhenAll(stops).ConfigureAwait(false);
        }
    }

    /// <summary>Resets the connections of removed upstreams still draining.</summary>
    public Task EndDrainsAsync() => _drainOver.CancelAsync();

    public void Dispose()
    {
        foreach (SidecarUpstreamListener upstream in Volatile.Read(ref _current))
        {
            upstream.Dispose();
        }

        _drainOver.Dispose();
    }

    // Under _lock.
    private SidecarUpstreamListener Open(MeshUpstream upstream, MeshDialTarget target)
    {
        SidecarUpstreamListener listener = SidecarUpstreamListener.Open(upstream, target);
        listener.Start(_onAccepted, _logger);
        SidecarLog.ListeningUpstream(_logger, _service, target.Label, listener.EndPoint);
        return listener;
    }

    private Task Drain(List<SidecarUpstreamListener> removed, CancellationToken cancellationToken)
    {
        Task drain = DrainAsync(removed, CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _drainOver.Token));
        lock (_lock)
        {
            _drains.RemoveAll(static d => d.IsCompleted);
            if (!drain.IsCompleted)
            {
                _drains.Add(drain);
            }
        }

        return drain;
    }

    // The deadline is the update's token or the sidecar's own drain, whichever fires first.
    private async Task DrainAsync(List<SidecarUpstreamListener> removed, CancellationTokenSource deadline)
    {
        using CancellationTokenSource owned = deadline;
        var stops = new Task[removed.Count];
        for (int i = 0; i < stops.Length; i++)
        {
            stops[i] = removed[i].StopAsync(deadline.Token);
        }

        await Task.WhenAll(stops).ConfigureAwait(false);
        lock (_lock)
        {
            foreach (SidecarUpstreamListener listener in removed)
            {
                _draining.Remove(listener);
                listener.Dispose();
            }
        }
    }
}
