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
/// The cluster's roots from the agent (<c>GET /v1/agent/connect/ca/roots</c>, blocking; no ACL needed): every <c>RootCert</c> is
/// trusted for the answer's <c>TrustDomain</c>, so both roots of a rotation verify. <c>IntermediateCerts</c> are never anchors.
/// </summary>
public sealed class ConsulTrustBundleSource : ITrustBundleSource, IAsyncDisposable
{
    private readonly BlockingQuery<BundleValue> _query;
    private long _version;

    /// <summary>Starts watching the roots.</summary>
    public ConsulTrustBundleSource(ConsulAgentClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _query = new BlockingQuery<BundleValue>(
            client,
            "roots",
            "roots",
            ConsulRequest.Get("/v1/agent/connect/ca/roots", "no ACL permission (the roots endpoint is open); check the agent's ACL configuration"),
            hashBlocking: false,
            (response, _) => ValueTask.FromResult(Parse(response, Interlocked.Increment(ref _version))),
            static (a, b) => a.Fingerprint == b.Fingerprint,
            onChanged: null,
            client.LoggerFactory.CreateLogger<ConsulTrustBundleSource>());
        _query.Start();
    }

    /// <inheritdoc />
    public TrustBundle Current => _query.Current?.Bundle ?? TrustBundle.Empty;

    /// <summary>The cluster's trust domain, once the first roots are in.</summary>
    public TrustDomain? TrustDomain => _query.Current?.TrustDomain;

    /// <inheritdoc />
    public async ValueTask<TrustBundle> GetBundleAsync(CancellationToken cancellationToken) =>
        (await _query.GetAsync(cancellationToken).ConfigureAwait(false)).Bundle;

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _query.GetChangeToken();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _query.DisposeAsync();

    internal static BundleValue Parse(ConsulResponse response, long version)
    {
        RootsDto dto = JsonSerializer.Deserialize(response.Body, ConsulJsonContext.Default.RootsDto)
            ?? throw new FormatException("The roots answer is null.");
        if (!Identity.TrustDomain.TryParse(dto.TrustDomain, out TrustDomain trustDomain, out SpiffeIdError error))
        {
            throw new FormatException($"The roots answer's TrustDomain '{dto.TrustDomain}' is invalid ({error}).");
        }

        var roots = new List<X509Certificate2>();
        foreach (RootDto? root in dto.Roots ?? [])
        {
            if (string.IsNullOrEmpty(root?.RootCert))
            {
                throw new FormatException($"Root '{root?.Id}' has no RootCert.");
            }

            roots.Add(X509Certificate2.CreateFromPem(root.RootCert));
        }

        if (roots.Count == 0)
        {
            throw new FormatException("The roots answer lists no root; the Connect CA may not be initialised yet.");
        }

        string fingerprint = trustDomain.Name + "\n" + string.Join('\n', roots.Select(static r => r.Thumbprint).Order(StringComparer.Ordinal));
        var bundle = new TrustBundle(version, new Dictionary<TrustDomain, IReadOnlyList<X509Certificate2>> { [trustDomain] = roots });
        return new BundleValue(bundle, trustDomain, fingerprint);
    }

    internal sealed record BundleValue(TrustBundle Bundle, TrustDomain TrustDomain, string Fingerprint);
}
