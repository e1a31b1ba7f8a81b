using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.Rotation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;

using Mesh.Shared;

namespace Mesh.Tls.Authority.Api;

/// <summary>
/// A workload's client of the CA role: it bootstraps as a Consul client agent does — generates its own key pair, sends a CSR with
/// its token and gets its leaf back (the private key never leaves the workload) — and it follows the CA's roots with blocking
/// queries, as the trust-bundle source of the workload.
/// </summary>
/// <remarks>Give it to a <see cref="LeafRotationManager"/> as the issuer; the manager renews through it before each leaf expires.</remarks>
public sealed class MeshCaClient : ILeafIssuer, ITrustBundleSource, IAsyncDisposable
{
    private static readonly TimeSpan BlockingWait = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly SpiffeId _id;
    private readonly string _token;
    private readonly ILogger _logger;
    private readonly InMemoryTrustBundleSource _bundles = new();
    private readonly ChangeNotifier _signingKeyChanged = new();
    private readonly CancellationTokenSource _stopping = new();
    private byte[] _activeSigningKeyId = [];
    private Task? _watch;

    /// <summary>Creates a client.</summary>
    /// <param name="http">An HTTP client whose <see cref="HttpClient.BaseAddress"/> is the CA role's address.</param>
    /// <param name="id">The workload's SPIFFE ID, the one its CSRs ask for.</param>
    /// <param name="token">The token the CA requires for that identity.</param>
    /// <param name="logger">Receives root changes and failures.</param>
    public MeshCaClient(HttpClient http, SpiffeId id, string token, ILogger<MeshCaClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(token);
        if (http.BaseAddress is null)
        {
            throw new ArgumentException("The HttpClient for the CA needs a BaseAddress: the CA role's address, such as http://127.0.0.1:8501.", nameof(http));
        }

        _http = http;
        _id = id.IsValid ? id : throw new ArgumentException("The workload's SPIFFE ID is required.", nameof(id));
        _token = token;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <inheritdoc />
    public TrustBundle Current => _bundles.Current;

    /// <inheritdoc />
    public ReadOnlyMemory<byte> ActiveSigningKeyId => Volatile.Read(ref _activeSigningKeyId);

    /// <summary>Fetches the roots once, then keeps following them in the background.</summary>
    /// <exception cref="HttpRequestException">The CA cannot be reached.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        long index = await FetchRootsAsync(0, cancellationToken).ConfigureAwait(false);
        _watch = WatchRootsAsync(index);
    }

    /// <inheritdoc />
    public ValueTask<TrustBundle> GetBundleAsync(CancellationToken cancellationToken) => _bundles.GetBundleAsync(cancellationToken);

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _bundles.GetChangeToken();

    /// <inheritdoc />
    public IChangeToken GetSigningKeyChangeToken() => _signingKeyChanged.GetChangeToken();

    /// <summary>Generates a new P-256 key, sends a CSR for the workload's ID and returns the issued leaf with the key attached.</summary>
    /// <exception cref="CertificateSigningException">The CA refused: the message and <see cref="CertificateSigningException.Error"/> say why.</exception>
    public async ValueTask<LeafCertificate> IssueAsync(CancellationToken cancellationToken)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        byte[] csr = CertificateAuthorityLeafIssuer.CreateSigningRequest(key, _id, []);
        string body = JsonSerializer.Serialize(new CaSignRequest { Csr = PemEncoding.WriteString("CERTIFICATE REQUEST", csr) }, CaApiJsonContext.Default.CaSignRequest);
        using var request = new HttpRequestMessage(HttpMethod.Post, CertificateAuthorityApi.SignPath)
        {
            Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue(CaApiResponse.ContentType)),
        };
        request.Headers.Add(CertificateAuthorityApi.TokenHeader, _token);
        using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        byte[] json = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            CaError? error = TryRead(json, CaApiJsonContext.Default.CaError);
            CertificateSigningError rule = Enum.TryParse(error?.Rule, out CertificateSigningError parsed) ? parsed : CertificateSigningError.MalformedRequest;
            throw new CertificateSigningException(rule, $"The CA at {_http.BaseAddress} refused to sign for '{_id}' ({(int)response.StatusCode}): {error?.Error ?? "no reason given"}");
        }

        CaIssuedCertificate issued = TryRead(json, CaApiJsonContext.Default.CaIssuedCertificate)
            ?? throw new CertificateSigningException(CertificateSigningError.MalformedRequest, $"The CA at {_http.BaseAddress} answered with an unreadable certificate.");
        IReadOnlyList<X509Certificate2> certificates = MeshPem.ReadCertificates(issued.CertPEM);
        if (certificates.Count == 0)
        {
            throw new CertificateSigningException(CertificateSigningError.MalformedRequest, $"The CA at {_http.BaseAddress} answered with no certificate.");
        }

        using X509Certificate2 leaf = certificates[0];
        X509Certificate2 withKey = leaf.CopyWithPrivateKey(key);
        return new LeafCertificate(withKey, [.. certificates.Skip(1)], _id);
    }

    /// <summary>Stops following the roots.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_watch is not null)
        {
            await _watch.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _stopping.Dispose();
    }

    private async Task WatchRootsAsync(long index)
    {
        TimeSpan backoff = TimeSpan.FromSeconds(1);
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                index = await FetchRootsAsync(index, _stopping.Token).ConfigureAwait(false);
                backoff = TimeSpan.FromSeconds(1);
            }
            catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !_stopping.IsCancellationRequested)
            {
                CaClientLog.RootsFailed(_logger, _http.BaseAddress!, ex.Message, backoff);
                await Task.Delay(backoff, _stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    // One blocking query (Consul's ?index=&wait=): returns at once the first time, then when the roots change or the wait passes.
    private async Task<long> FetchRootsAsync(long index, CancellationToken cancellationToken)
    {
        string path = index == 0
            ? CertificateAuthorityApi.RootsPath
            : string.Create(CultureInfo.InvariantCulture, $"{CertificateAuthorityApi.RootsPath}?index={index}&wait={BlockingWait.TotalSeconds}s");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(BlockingWait + TimeSpan.FromSeconds(15));
        using HttpResponseMessage response = await _http.GetAsync(new Uri(path, UriKind.Relative), timeout.Token).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        byte[] json = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
        CaRootList roots = JsonSerializer.Deserialize(json, CaApiJsonContext.Default.CaRootList) ?? throw new JsonException("empty roots document");
        long newIndex = response.Headers.TryGetValues(CertificateAuthorityApi.IndexHeader, out IEnumerable<string>? values)
            && long.TryParse(values.FirstOrDefault(), CultureInfo.InvariantCulture, out long parsed) ? parsed : index + 1;
        if (newIndex != index)
        {
            Publish(roots, newIndex);
        }

        return newIndex;
    }

    private void Publish(CaRootList roots, long index)
    {
        TrustDomain trustDomain = TrustDomain.Parse(roots.TrustDomain);
        var anchors = new List<X509Certificate2>();
        byte[] active = [];
        foreach (CaRootEntry root in roots.Roots)
        {
            anchors.AddRange(MeshPem.ReadCertificates(root.RootCert));
            if (root.Active)
            {
                active = Convert.FromHexString(root.SigningKeyID.Replace(":", string.Empty, StringComparison.Ordinal));
            }
        }

        _bundles.Set(new TrustBundle(index, new Dictionary<TrustDomain, IReadOnlyList<X509Certificate2>> { [trustDomain] = anchors }));
        CaClientLog.RootsUpdated(_logger, trustDomain.Name, anchors.Count, index);
        byte[] previous = Interlocked.Exchange(ref _activeSigningKeyId, active);
        if (previous.Length > 0 && !previous.AsSpan().SequenceEqual(active))
        {
            _signingKeyChanged.NotifyChanged();
        }
    }

    private static T? TryRead<T>(byte[] json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
