namespace Mesh.Identity;

/// <summary>The kinds of SPIFFE ID a Consul mesh issues (consul-semantics §3).</summary>
public enum MeshIdentityKind
{
    /// <summary>Not a mesh identity (the default value).</summary>
    None = 0,

    /// <summary>A service: <c>/ns/&lt;ns&gt;/dc/&lt;dc&gt;/svc/&lt;svc&gt;</c>, with <c>/ap/&lt;ap&gt;</c> first outside the default partition.</summary>
    Service,

    /// <summary>A client agent: <c>/agent/client/dc/&lt;dc&gt;/id/&lt;agent&gt;</c>.</summary>
    ClientAgent,

    /// <summary>A server agent: <c>/agent/server/dc/&lt;dc&gt;</c>.</summary>
    ServerAgent,

    /// <summary>A mesh gateway: <c>/gateway/mesh/dc/&lt;dc&gt;</c>, with <c>/ap/&lt;ap&gt;</c> first outside the default partition.</summary>
    MeshGateway,

    /// <summary>A signing (CA) certificate: the trust domain's ID, <c>spiffe://&lt;TD&gt;</c>, with no path.</summary>
    Signing,
}
