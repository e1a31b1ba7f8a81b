using System.Runtime.Versioning;

namespace Mesh.Sni.Gateway;

/// <summary>
/// The gateway's engine on Linux: its connections run on <see cref="GatewayEventLoop"/>'s thread; this holds the lifecycle
/// around it (the loop is unsafe code, which cannot await) and closes the listeners once the loop no longer waits on them.
/// </summary>
[SupportedOSPlatform("linux")]
internal sealed class EventLoopGatewayEngine(GatewayEventLoop loop, GatewayListener[] listeners) : IGatewayEngine
{
    public int Active => loop.Active;

    public void Start() => loop.Start();

    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        // The listeners leave the loop before their sockets are closed: epoll must not hold a descriptor that is reused.
        await loop.StopAcceptingAsync().ConfigureAwait(false);
        GatewayListener.CloseAll(listeners);
        await loop.Drained.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await loop.AbortAsync().ConfigureAwait(false);
    }

    public async Task AbortAsync()
    {
        await loop.AbortAsync().ConfigureAwait(false);
        GatewayListener.CloseAll(listeners);
    }

    public void Dispose() => loop.Dispose();
}
