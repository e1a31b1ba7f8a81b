namespace Mesh.Naming;

/// <summary>The forms of a Consul Connect SNI name (consul-semantics §1).</summary>
public enum ConsulSniNameKind
{
    /// <summary><c>[&lt;subset&gt;.]&lt;svc&gt;.&lt;ns&gt;.&lt;dc&gt;.internal.&lt;TD&gt;</c>, or <c>[&lt;subset&gt;.]&lt;svc&gt;.&lt;ns&gt;.&lt;ap&gt;.&lt;dc&gt;.internal-v1.&lt;TD&gt;</c> in a non-default partition.</summary>
    Service,

    /// <summary>A mesh gateway's datacenter: <c>&lt;dc&gt;.internal.&lt;TD&gt;</c>, or <c>&lt;ap&gt;.&lt;dc&gt;.internal-v1.&lt;TD&gt;</c> in a non-default partition.</summary>
    Datacenter,

    /// <summary>A service exported to a cluster peer: <c>&lt;svc&gt;.&lt;ns&gt;.&lt;ap&gt;.&lt;peer&gt;.external.&lt;TD&gt;</c>.</summary>
    PeerExport,

    /// <summary>A prepared query: <c>&lt;query&gt;.default.&lt;dc&gt;.query.&lt;TD&gt;</c>.</summary>
    PreparedQuery,
}
