namespace Mesh.Sni.Routing;

/// <summary>How <see cref="SniRouteTable{TValue}"/> matched a server name.</summary>
public enum SniRouteMatch
{
    /// <summary>No route matched and the table has no default: refuse the connection.</summary>
    None,

    /// <summary>An exact name matched.</summary>
    Exact,

    /// <summary>A <c>*.suffix</c> wildcard matched (the longest matching suffix).</summary>
    Wildcard,

    /// <summary>Nothing matched; the table's default route applies.</summary>
    Default,
}
