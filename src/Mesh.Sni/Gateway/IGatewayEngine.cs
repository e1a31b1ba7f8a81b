namespace Mesh.Sni.Gateway;

/// <summary>
/// What runs the gateway's connections, from accept to close, on the listeners it is given: the event loop on Linux
/// (<see cref="EventLoopGatewayEngine"/>) or the socket engine elsewhere (<see cref="SocketGatewayEngine"/>); <see cref="GatewayEngines"/>
/// chooses. Route policy, limits and metrics come from the gateway and are the same on both.
/// </summary>
internal interface IGatewayEngine : IDisposable
{
    /// <summary>The connections held now (any thread).</summary>
    int Active { get; }

    /// <summary>Starts accepting on the listeners.</summary>
    void Start();

    /// <summary>
    /// Stops accepting and closes the listeners, waits for open connections to end until <paramref name="cancellationToken"/>
    /// fires, then resets those still open.
    /// </summary>
    Task DrainAsync(CancellationToken cancellationToken);

    /// <summary>Stops at once: the listeners are closed and open connections reset.</summary>
    Task AbortAsync();
}
