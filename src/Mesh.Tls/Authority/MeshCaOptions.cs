using Mesh.Identity;

namespace Mesh.Tls.Authority;

/// <summary>Settings of the mesh CA, with Consul's built-in CA defaults (consul-semantics §4).</summary>
public sealed class MeshCaOptions
{
    /// <summary>The trust domain, e.g. <c>&lt;cluster-uuid&gt;.consul</c>. Required.</summary>
    public TrustDomain TrustDomain { get; set; }

    /// <summary>The datacenter this CA signs for; service and gateway IDs of other datacenters are refused.</summary>
    public string Datacenter { get; set; } = "dc1";

    /// <summary>
    /// Further datacenters this CA signs for. Consul gives every datacenter a CA of its own under the primary's root; one CA that
    /// serves a whole small mesh (a dev setup, the demo) signs for each datacenter listed here as well.
    /// </summary>
    public IList<string> AdditionalDatacenters { get; } = [];

    /// <summary>The root (and intermediate) key type; EC P-256 by default.</summary>
    public CaKeyType KeyType { get; set; } = CaKeyType.EcP256;

    /// <summary>The TTL of leaves when the request names none: 72 h.</summary>
    public TimeSpan LeafTtl { get; set; } = TimeSpan.FromHours(72);

    /// <summary>The shortest leaf TTL accepted: Consul's 1 h. Tests and dev mode may lower it.</summary>
    public TimeSpan MinimumLeafTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The longest leaf TTL accepted: 8760 h.</summary>
    public TimeSpan MaximumLeafTtl { get; set; } = TimeSpan.FromHours(8760);

    /// <summary>Whether leaves are signed by an intermediate under the root rather than by the root itself.</summary>
    public bool UseIntermediate { get; set; }

    /// <summary>The intermediate's TTL: 8760 h; at least 3 × <see cref="LeafTtl"/>.</summary>
    public TimeSpan IntermediateTtl { get; set; } = TimeSpan.FromHours(8760);

    /// <summary>The root's TTL: 87600 h (10 years); at least <see cref="IntermediateTtl"/>.</summary>
    public TimeSpan RootTtl { get; set; } = TimeSpan.FromHours(87600);

    /// <summary>How long the old root's cross-signature of a new root is valid: 7 days, as Consul.</summary>
    public TimeSpan CrossSignedTtl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// A directory the CA owns for its key material, so its root (and intermediate) survive a restart: created with mode 0700 on
    /// first start, the root written to <c>root.pem</c> and the intermediate to <c>intermediate.pem</c> (certificate and PKCS #8
    /// key, mode 0600, written atomically), loaded on every later start and rewritten on a root rotation. Null keeps the keys in
    /// memory only: every start then mints a new root, which splits the mesh (see docs/ca-keys.md).
    /// </summary>
    public string? KeyDirectory { get; set; }

    /// <summary>
    /// A root certificate (PEM) supplied by the operator, used instead of a generated or stored one; requires
    /// <see cref="RootPrivateKeyPem"/>. An intermediate, when configured, is still kept in <see cref="KeyDirectory"/>.
    /// </summary>
    public string? RootCertificatePem { get; set; }

    /// <summary>The private key (PEM: PKCS #8, SEC1 or PKCS #1) of <see cref="RootCertificatePem"/>.</summary>
    public string? RootPrivateKeyPem { get; set; }

    /// <summary>Signing requests per second (Consul's <c>csr_max_per_second</c>): 50; 0 turns the limit off.</summary>
    public double SigningRateLimit { get; set; } = 50;
}
