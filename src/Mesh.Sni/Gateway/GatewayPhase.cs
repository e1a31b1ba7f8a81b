namespace Mesh.Sni.Gateway;

/// <summary>Where a connection of the gateway's event loop is.</summary>
internal enum GatewayPhase
{
    /// <summary>Receiving the ClientHello.</summary>
    ReadingHello,

    /// <summary>Connecting to an endpoint of the route (and replaying the hello once connected).</summary>
    Connecting,

    /// <summary>Moving bytes both ways.</summary>
    Splicing,
}
