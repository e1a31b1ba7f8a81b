using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mesh.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Authority.Api;

/// <summary>
/// The CA role's HTTP API, independent of the HTTP server that carries it: signs CSRs for callers whose token covers the
/// requested identity (as Consul's ACL <c>service:write</c>), and serves the roots in Consul's shape with an index for blocking
/// queries. The CA's keys never leave this process.
/// </summary>
public sealed class CertificateAuthorityApi
{
    /// <summary>POST: sign a CSR. Body <c>{"CSR": "&lt;PEM&gt;"}</c>, token in <see cref="TokenHeader"/>.</summary>
    public const string SignPath = "/v1/connect/ca/sign";

    /// <summary>GET: the roots, as Consul's <c>/v1/agent/connect/ca/roots</c>; <c>?index=N&amp;wait=30s</c> blocks until they change.</summary>
    public const string RootsPath = "/v1/agent/connect/ca/roots";

    /// <summary>The request header carrying the caller's token, as Consul's.</summary>
    public const string TokenHeader = "X-Consul-Token";

    /// <summary>The response header carrying the roots index, as Consul's.</summary>
    public const string IndexHeader = "X-Consul-Index";

    /// <summary>The name under which mesh gateways' tokens are listed.</summary>
    public const string MeshGatewayTokenName = "mesh-gateway";

    private readonly MeshCertificateAuthority _ca;
    private readonly IReadOnlyDictionary<string, string> _tokens;
    private readonly ILogger _logger;
    private readonly TimeSpan? _leafTtl;

    /// <summary>Creates the API over a CA.</summary>
    /// <param name="ca">The CA that signs.</param>
    /// <param name="tokens">Service name (or <see cref="MeshGatewayTokenName"/>) → the token that may obtain its certificates.</param>
    /// <param name="leafTtl">The TTL of issued leaves; the CA's default when null.</param>
    /// <param name="logger">Receives refused requests.</param>
    public CertificateAuthorityApi(MeshCertificateAuthority ca, IReadOnlyDictionary<string, string> tokens, TimeSpan? leafTtl = null, ILogger<CertificateAuthorityApi>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(tokens);
        _ca = ca;
        _tokens = tokens;
        _leafTtl = leafTtl;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The roots index: it grows with every change of the roots.</summary>
    public long RootsIndex => _ca.TrustBundleSource.Current.Version;

    /// <summary>A token that fires when the roots change, for blocking queries.</summary>
    public IChangeToken GetRootsChangeToken() => _ca.TrustBundleSource.GetChangeToken();

    /// <summary>Handles a signing request.</summary>
    /// <param name="token">The caller's token, from <see cref="TokenHeader"/>.</param>
    /// <param name="body">The request body.</param>
    /// <returns>200 with the issued certificate; 400 for a malformed request or a CSR that breaks a rule; 403 when the token does not cover the identity; 429 when the rate limit is exceeded.</returns>
    public CaApiResponse Sign(string? token, ReadOnlySpan<byte> body)
    {
        CaSignRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(body, CaApiJsonContext.Default.CaSignRequest);
        }
        catch (JsonException ex)
        {
            return Error(400, $"The body is not JSON of the form {{\"CSR\": \"<PEM>\"}}: {ex.Message}", null);
        }

        if (string.IsNullOrWhiteSpace(request?.Csr))
        {
            return Error(400, "The body has no CSR: send {\"CSR\": \"-----BEGIN CERTIFICATE REQUEST-----...\"}.", null);
        }

        try
        {
            byte[] der = MeshPem.DecodeSingle(request.Csr, "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
                ?? throw new CertificateSigningException(CertificateSigningError.MalformedRequest, "The CSR field holds no PEM 'CERTIFICATE REQUEST' block.");
            SignedCertificate signed = _ca.SignCsr(der, id => IsAuthorized(token, id), _leafTtl);
            string service = MeshIdentity.TryParse(signed.Id, out MeshIdentity identity) ? identity.Name ?? string.Empty : string.Empty;
            using var certificate = signed.LoadCertificate();
            var issued = new CaIssuedCertificate
            {
                SerialNumber = Colons(certificate.SerialNumberBytes.Span),
                CertPEM = signed.ToPem(),
                Service = service,
                ServiceURI = signed.Id.Value,
                ValidAfter = signed.NotBefore,
                ValidBefore = signed.NotAfter,
            };
            return new CaApiResponse(200, JsonSerializer.SerializeToUtf8Bytes(issued, CaApiJsonContext.Default.CaIssuedCertificate));
        }
        catch (CertificateSigningException ex)
        {
            int status = ex.Error switch
            {
                CertificateSigningError.Unauthorized => 403,
                CertificateSigningError.RateLimited => 429,
                _ => 400,
            };
            return Error(status, ex.Message, ex.Error.ToString());
        }
    }

    /// <summary>The roots in Consul's shape, with the index for <see cref="IndexHeader"/>.</summary>
    public CaApiResponse GetRoots()
    {
        long index = RootsIndex;
        var list = new CaRootList { TrustDomain = _ca.TrustDomain.Name };
        foreach (MeshCaRoot root in _ca.Roots)
        {
            string id = Colons(root.SigningKeyId.Span);
            var entry = new CaRootEntry
            {
                ID = id,
                Name = "Mesh CA Primary Cert",
                SerialNumber = Colons(root.Certificate.SerialNumberBytes.Span),
                SigningKeyID = id,
                NotBefore = root.Certificate.NotBefore.ToUniversalTime(),
                NotAfter = root.Certificate.NotAfter.ToUniversalTime(),
                RootCert = root.ToPem(),
                Active = root.Active,
            };
            foreach (var intermediate in root.IntermediateCertificates)
            {
                entry.IntermediateCerts.Add(intermediate.ExportCertificatePem());
            }

            if (root.Active)
            {
                list.ActiveRootID = id;
            }

            list.Roots.Add(entry);
        }

        return new CaApiResponse(200, JsonSerializer.SerializeToUtf8Bytes(list, CaApiJsonContext.Default.CaRootList), index);
    }

    private bool IsAuthorized(string? token, SpiffeId id)
    {
        if (string.IsNullOrEmpty(token) || !MeshIdentity.TryParse(id, out MeshIdentity identity))
        {
            return false;
        }

        string? name = identity.Kind switch
        {
            MeshIdentityKind.Service => identity.Name,
            MeshIdentityKind.MeshGateway => MeshGatewayTokenName,
            _ => null,
        };
        if (name is null || !_tokens.TryGetValue(name, out string? expected))
        {
            return false;
        }

        // Constant time: a token is a secret, and comparison time must not reveal how much of it matched.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(expected));
    }

    private CaApiResponse Error(int status, string message, string? rule)
    {
        CaApiLog.Refused(_logger, status, message);
        return new CaApiResponse(status, JsonSerializer.SerializeToUtf8Bytes(new CaError { Error = message, Rule = rule }, CaApiJsonContext.Default.CaError));
    }

    // Consul writes serial numbers and key IDs as lower-case hex bytes joined by colons.
    internal static string Colons(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder(bytes.Length * 3);
        foreach (byte b in bytes)
        {
            if (builder.Length > 0)
            {
                builder.Append(':');
            }

            builder.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }
}
