using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Mesh.Consul.Client;
using Mesh.Consul.Json;
using Mesh.ControlPlane;
using Mesh.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace Mesh.Consul;

/// <summary>
/// A service's leaf from the agent (<c>GET /v1/agent/connect/ca/leaf/&lt;service&gt;</c>, blocking). The agent generates the key,
/// renews at 60–90 % of the lifetime and after a root change; each renewal is a new <see cref="LeafCertificate"/>.
/// </summary>
/// <remarks>
/// Needs <c>service:write</c> on the service. During an agent outage the last leaf stays current (it remains valid until its
/// NotAfter; the agent renews well before).
/// </remarks>
public sealed class ConsulLeafSource : ILeafSource, IAsyncDisposable
{
    private readonly BlockingQuery<LeafValue> _query;

    /// <summary>Starts watching the leaf of <paramref name="service"/>.</summary>
    /// <param name="client">The agent client.</param>
    /// <param name="service">The service name the leaf is for (for a sidecar, its destination service).</param>
    public ConsulLeafSource(ConsulAgentClient client, string service)
    {
        ArgumentNullException.ThrowIfNull(client);
        Service = ServiceName.CheckPart(service, "service", nameof(service));
        string path = "/v1/agent/connect/ca/leaf/" + Uri.EscapeDataString(service);
        _query = new BlockingQuery<LeafValue>(
            client,
            $"leaf {service}",
            "leaf",
            ConsulRequest.Get(path, $"service:write on \"{service}\""),
            hashBlocking: false,
            static (response, _) => ValueTask.FromResult(Parse(response)),
            static (a, b) => a.Fingerprint == b.Fingerprint,
            onChanged: null,
            client.LoggerFactory.CreateLogger<ConsulLeafSource>());
        _query.Start();
    }

    /// <summary>The service the leaf is for.</summary>
    public string Service { get; }

    /// <inheritdoc />
    public LeafCertificate? Current => _query.Current?.Leaf;

    /// <summary>The permanent error that stopped the source (a 403 naming the missing permission), or null.</summary>
    public Exception? Fault => _query.Fault;

    /// <inheritdoc />
    /// <exception cref="ConsulPermissionDeniedException">The token lacks <c>service:write</c> on the service.</exception>
    public async ValueTask<LeafCertificate> GetLeafAsync(CancellationToken cancellationToken) =>
        (await _query.GetAsync(cancellationToken).ConfigureAwait(false)).Leaf;

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _query.GetChangeToken();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _query.DisposeAsync();

    internal static LeafValue Parse(ConsulResponse response)
    {
        LeafDto dto = JsonSerializer.Deserialize(response.Body, ConsulJsonContext.Default.LeafDto)
            ?? throw new FormatException("The leaf answer is null.");
        if (string.IsNullOrEmpty(dto.CertPem) || string.IsNullOrEmpty(dto.PrivateKeyPem))
        {
            throw new FormatException("The leaf answer has no CertPEM or no PrivateKeyPEM.");
        }

        var chain = new X509Certificate2Collection();
        chain.ImportFromPem(dto.CertPem);
        if (chain.Count == 0)
        {
            throw new FormatException("The leaf answer's CertPEM holds no certificate.");
        }

        // CertPEM is the leaf followed by the intermediates of the active root (Consul sends the cross-signed one first).
        X509Certificate2 leaf = AttachKey(chain[0], dto.PrivateKeyPem);
        chain[0].Dispose();
        var intermediates = new X509Certificate2[chain.Count - 1];
        for (int i = 1; i < chain.Count; i++)
        {
            intermediates[i - 1] = chain[i];
        }

        if (!SpiffeId.TryParse(dto.ServiceUri, out SpiffeId id))
        {
            throw new FormatException($"The leaf answer's ServiceURI '{dto.ServiceUri}' is not a SPIFFE ID.");
        }

        return new LeafValue(new LeafCertificate(leaf, intermediates, id), dto.SerialNumber + "\n" + dto.CertPem);
    }

    // The agent generates the key in the CA's key type: SEC1 "EC PRIVATE KEY" for EC (the default), PKCS#1 for RSA.
    private static X509Certificate2 AttachKey(X509Certificate2 certificate, string keyPem)
    {
        if (keyPem.Contains("RSA PRIVATE KEY", StringComparison.Ordinal))
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(keyPem);
            return certificate.CopyWithPrivateKey(rsa);
        }

        using var ecdsa = ECDsa.Create();
        ecdsa.ImportFromPem(keyPem);
        return certificate.CopyWithPrivateKey(ecdsa);
    }

    internal sealed record LeafValue(LeafCertificate Leaf, string Fingerprint);
}
