namespace Mesh.Tls.Authority;

/// <summary>The CA key types Consul's built-in CA supports (consul-semantics §4).</summary>
public enum CaKeyType
{
    /// <summary>ECDSA on NIST P-256, Consul's default.</summary>
    EcP256 = 0,

    /// <summary>ECDSA on NIST P-384.</summary>
    EcP384,

    /// <summary>ECDSA on NIST P-521.</summary>
    EcP521,

    /// <summary>RSA, 2048-bit modulus.</summary>
    Rsa2048,

    /// <summary>RSA, 4096-bit modulus.</summary>
    Rsa4096,
}
