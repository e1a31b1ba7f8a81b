using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Mesh.ControlPlane.File;
using Mesh.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Authority.Api;

/// <summary>
/// The CA role's HTTP API, independent of the HTTP server that carries it: signs CSRs for callers whose token covers the
/// requested identity (as Consul's ACL <c>service:write</c>), and serves the roots in Consul's shape with an index for blocking
/// queries. The CA's keys never leave this process. See docs/ca.md for what a token allows and which limits apply.
/// </summary>
public sealed class CertificateAuthorityApi : IDisposable
{
    /// <summary>The largest signing request body accepted, in bytes; a CSR with its JSON wrapper is under 2 KiB.</summary>
    public const int MaxRequestBodyBytes = 16 * 1024;

    /// <summary>POST: sign a CSR. Body <c>{"CSR": "&lt;PEM&gt;"}</c>, token in <see cref="TokenHeader"/>.</summary>
    public const string SignPath = "/v1/connect/ca/sign";

    /// <summary>GET: the roots, as Consul's <c>/v1/agent/connect/ca/roots</c>; <c>?index=N&amp;wait=30s</c> blocks until they change.</summary>
    public const string RootsPath = "/v1/agent/connect/ca/roots";

    /// <summary>The request header carrying the caller's token, as Consul's.</summary>
    public const string TokenHeader = "X-Consul-Token";

    /// <summary>The response header carrying the roots index, as Consul's.</summary>
    public const string IndexHeader = "X-Consul-Index";

    private readonly MeshCertificateAuthority _ca;
    private readonly ILogger _logger;
    private readonly FailedAuthorizationLimiter _failures;
    private readonly ControlPlaneFile? _file;
    private readonly IDisposable? _fileSubscription;
    private Settings _settings;

    /// <summary>Creates the API over a CA with a fixed token list.</summary>
    /// <param name="ca">The CA that signs.</param>
    /// <param name="tokens">The tokens and what each allows.</param>
    /// <param name="leafTtl">The TTL of issued leaves; the CA's default when null.</param>
    /// <param name="timeProvider">The clock of the failed-authorization limit; the system clock when null.</param>
    /// <param name="logger">Receives refused requests and token changes.</param>
    public CertificateAuthorityApi(MeshCertificateAuthority ca, IReadOnlyList<CertificateAuthorityToken> tokens, TimeSpan? leafTtl = null, TimeProvider? timeProvider = null, ILogger<CertificateAuthorityApi>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(ca);
        ArgumentNullException.ThrowIfNull(tokens);
        _ca = ca;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _failures = new FailedAuthorizationLimiter(timeProvider ?? TimeProvider.System);
        _settings = new Settings(new CaTokenTable(tokens), leafTtl);
    }

    /// <summary>
    /// Creates the API over a CA whose tokens and leaf TTL come from the control-plane file's <c>CA</c> section and follow its
    /// reloads: a token removed from the file is refused from the next request after the reload, an added one is honoured.
    /// </summary>
    /// <param name="ca">The CA that signs.</param>
    /// <param name="file">The control-plane file; the API follows it until disposed.</param>
    /// <param name="timeProvider">The clock of the failed-authorization limit; the system clock when null.</param>
    /// <param name="logger">Receives refused requests and token changes.</param>
    public CertificateAuthorityApi(MeshCertificateAuthority ca, ControlPlaneFile file, TimeProvider? timeProvider = null, ILogger<CertificateAuthorityApi>? logger = null)
        : this(ca, (file ?? throw new ArgumentNullException(nameof(file))).Configuration.CertificateAuthorityTokens, file.Configuration.LeafTtl, timeProvider, logger)
    {
        _file = file;
        _fileSubscription = ChangeToken.OnChange(file.GetConfigurationChangeToken, ApplyFile);
    }

    /// <summary>The roots index: it grows with every change of the roots.</summary>
    public long RootsIndex => _ca.TrustBundleSource.Current.Version;

    /// <summary>A token that fires when the roots change, for blocking queries.</summary>
    public IChangeToken GetRootsChangeToken() => _ca.TrustBundleSource.GetChangeToken();

    /// <summary>Stops following the control-plane file.</summary>
    public void Dispose() => _fileSubscription?.Dispose();

    /// <summary>Handles a signing request.</summary>
    /// <param name="token">The caller's token, from <see cref="TokenHeader"/>.</param>
    /// <param name="body">The request body.</param>
    /// <param name="client">The caller's address, for the failed-authorization limit; callers without one share a bucket.</param>
    /// <returns>
    /// 200 with the issued certificate; 400 for a malformed request or a CSR that breaks a rule; 403 when the token does not cover
    /// the identity; 413 for a body over <see cref="MaxRequestBodyBytes"/>; 429 when the signing rate or the caller's failed
    /// authorizations exceed their limit.
    /// </returns>
    public CaApiResponse Sign(string? token, ReadOnlySpan<byte> body, IPAddress? client = null)
    {
        // Checked before anything else: a limited address learns nothing, not even whether its CSR is well formed.
        if (_failures.IsLimited(client))
        {
            return Refusal(429, CertificateSigningError.TooManyFailedAuthorizations,
                "Too many failed authorizations from this address; wait a minute before trying again with a valid token.", log: false);
        }

        if (body.Length > MaxRequestBodyBytes)
        {
            return RefuseTooLarge();
        }

        // The token first: a caller the CA does not know learns nothing about how its request would have been read, and every
        // unknown token counts toward the address's limit, whatever the body holds.
        Settings settings = Volatile.Read(ref _settings);
        CertificateAuthorityToken? caller = settings.Tokens.Find(token);
        if (caller is null)
        {
            RecordFailure(client);
            return Refusal(403, CertificateSigningError.Unauthorized, string.IsNullOrEmpty(token)
                ? $"No token: send the token that CA.Tokens lists for the service in the {TokenHeader} header."
                : "The caller's token is not one the CA accepts: send the token that CA.Tokens lists for the service.");
        }

        CaSignRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(body, CaApiJsonContext.Default.CaSignRequest);
        }
        catch (JsonException ex)
        {
            return Refusal(400, CertificateSigningError.MalformedRequest, $"The body is not JSON of the form {{\"CSR\": \"<PEM>\"}}: {ex.Message}");
        }

        if (string.IsNullOrWhiteSpace(request?.Csr))
        {
            return Refusal(400, CertificateSigningError.MalformedRequest, "The body has no CSR: send {\"CSR\": \"-----BEGIN CERTIFICATE REQUEST-----...\"}.");
        }

        try
        {
            byte[] der = DecodeCsr(request.Csr);
            SignedCertificate signed = _ca.SignAuthorized(der, (id, csr) => Authorize(caller, id, csr), settings.LeafTtl);
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
            if (ex.Error == CertificateSigningError.Unauthorized)
            {
                RecordFailure(client);
            }

            int status = ex.Error switch
            {
                CertificateSigningError.Unauthorized => 403,
                CertificateSigningError.RateLimited => 429,
                _ => 400,
            };
            return Refusal(status, ex.Error, ex.Message);
        }
    }

    /// <summary>The answer to a body larger than <see cref="MaxRequestBodyBytes"/>: 413, for servers that stop reading at the cap.</summary>
    public CaApiResponse RefuseTooLarge() =>
        Refusal(413, CertificateSigningError.RequestTooLarge,
            $"The request body is larger than {MaxRequestBodyBytes} bytes; a signing request is one PEM CSR of about 1 KiB in {{\"CSR\": \"...\"}}.");

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

    private static CertificateSigningException? Authorize(CertificateAuthorityToken token, SpiffeId id, CertificationRequest csr)
    {
        if (!MeshIdentity.TryParse(id, out MeshIdentity identity) || !CaTokenTable.Covers(token, identity))
        {
            return new CertificateSigningException(CertificateSigningError.Unauthorized, $"The caller's token does not allow certificates for '{id}'.");
        }

        // Consul lets its trusted agent add DNS SANs; here the workload itself asks, so it carries only what the operator listed.
        if (CaTokenTable.FindDisallowedSan(token, csr.DnsNames, csr.IPAddresses) is { } san)
        {
            return new CertificateSigningException(CertificateSigningError.SanNotAllowed, $"The CSR asks for the {san}, which the token's entry ({token}) does not allow. IP SANs are never signed; DNS SANs only when listed in the entry's DnsNames.");
        }

        return null;
    }

    // Exactly one PEM block, a CSR: a second block (another CSR, a key) is refused rather than silently skipped.
    private static byte[] DecodeCsr(string pem)
    {
        ReadOnlySpan<char> rest = pem;
        byte[]? der = null;
        int blocks = 0;
        while (PemEncoding.TryFind(rest, out PemFields fields))
        {
            blocks++;
            ReadOnlySpan<char> label = rest[fields.Label];
            if (label.SequenceEqual("CERTIFICATE REQUEST") || label.SequenceEqual("NEW CERTIFICATE REQUEST"))
            {
                der ??= Convert.FromBase64String(rest[fields.Base64Data].ToString());
            }

            rest = rest[fields.Location.End..];
        }

        if (der is null)
        {
            throw new CertificateSigningException(CertificateSigningError.MalformedRequest, "The CSR field holds no PEM 'CERTIFICATE REQUEST' block.");
        }

        return blocks == 1
            ? der
            : throw new CertificateSigningException(CertificateSigningError.MalformedRequest, $"The CSR field holds {blocks} PEM blocks; send exactly one 'CERTIFICATE REQUEST'.");
    }

    private void RecordFailure(IPAddress? client)
    {
        if (_failures.RecordFailure(client))
        {
            CaApiLog.AuthorizationsLimited(_logger, client?.ToString() ?? "(unknown)", FailedAuthorizationLimiter.Burst);
        }
    }

    private void ApplyFile()
    {
        ControlPlaneConfiguration configuration = _file!.Configuration;
        Swap(configuration.CertificateAuthorityTokens, configuration.LeafTtl);
    }

    private void Swap(IReadOnlyList<CertificateAuthorityToken> tokens, TimeSpan? leafTtl)
    {
        var next = new Settings(new CaTokenTable(tokens), leafTtl);
        Settings previous = Interlocked.Exchange(ref _settings, next);
        foreach ((string entry, string change) in CaTokenTable.Describe(previous.Tokens, next.Tokens))
        {
            CaApiLog.TokenChanged(_logger, entry, change);
        }
    }

    private CaApiResponse Refusal(int status, CertificateSigningError rule, string message, bool log = true)
    {
        if (log)
        {
            CaApiLog.Refused(_logger, status, rule, message);
        }

        return new CaApiResponse(status, JsonSerializer.SerializeToUtf8Bytes(new CaError { Error = message, Rule = rule.ToString() }, CaApiJsonContext.Default.CaError));
    }

    private sealed record Settings(CaTokenTable Tokens, TimeSpan? LeafTtl);

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
