using Mesh.ControlPlane;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Rotation;

/// <summary>
/// Obtains new leaves for one workload: generates a key, sends a CSR for it and returns the certificate with its key attached.
/// The in-process CA implements it (<see cref="CertificateAuthorityLeafIssuer"/>); a client of a remote CA implements it the same way.
/// </summary>
public interface ILeafIssuer
{
    /// <summary>Generates a new key and gets a leaf issued for it.</summary>
    ValueTask<LeafCertificate> IssueAsync(CancellationToken cancellationToken);

    /// <summary>The SubjectKeyId of the certificate that signs new leaves; empty when unknown.</summary>
    ReadOnlyMemory<byte> ActiveSigningKeyId { get; }

    /// <summary>A token that fires when <see cref="ActiveSigningKeyId"/> changes (a root rotation).</summary>
    IChangeToken GetSigningKeyChangeToken();
}
