using System.Security.Cryptography.X509Certificates;
using Mesh.Identity;

namespace Mesh.ControlPlane;

/// <summary>
/// A workload's current X.509-SVID: the leaf certificate with its private key, the intermediates to send with it, and its SPIFFE ID.
/// </summary>
/// <remarks>
/// Instances are immutable snapshots: a renewal produces a new instance, so a handshake that picked one up keeps a consistent
/// certificate, key and chain while a rotation swaps the source's current value.
/// </remarks>
public sealed class LeafCertificate
{
    /// <summary>Creates a leaf snapshot.</summary>
    /// <param name="certificate">The leaf, with its private key attached.</param>
    /// <param name="intermediates">Certificates between the leaf and a root, leaf-side first; sent to peers, never trusted as anchors.</param>
    /// <param name="id">The SPIFFE ID in the leaf's URI SAN.</param>
    /// <exception cref="ArgumentException">The certificate has no private key.</exception>
    public LeafCertificate(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> intermediates, SpiffeId id)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(intermediates);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException($"The leaf certificate for '{id}' has no private key attached; a workload cannot serve TLS without it.", nameof(certificate));
        }

        if (!id.IsValid)
        {
            throw new ArgumentException("The leaf's SPIFFE ID is missing.", nameof(id));
        }

        Certificate = certificate;
        Intermediates = intermediates;
        Id = id;
        NotBefore = certificate.NotBefore.ToUniversalTime();
        NotAfter = certificate.NotAfter.ToUniversalTime();
    }

    /// <summary>The leaf certificate with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The intermediates to send after the leaf, leaf-side first.</summary>
    public IReadOnlyList<X509Certificate2> Intermediates { get; }

    /// <summary>The workload's SPIFFE ID.</summary>
    public SpiffeId Id { get; }

    /// <summary>The start of the validity period, UTC.</summary>
    public DateTimeOffset NotBefore { get; }

    /// <summary>The end of the validity period, UTC.</summary>
    public DateTimeOffset NotAfter { get; }
}
