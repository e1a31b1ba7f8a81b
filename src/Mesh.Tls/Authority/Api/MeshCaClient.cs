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
    private static readonly TimeSpan SignTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RetryMaximumDelay = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly SpiffeId _id;
    private readonly string _token;
    private readonly ILogger _logger;
    private readonly InMemoryTrustBundleSource _bundles = new();
    private readonly ChangeNotifier _signingKeyChanged = new();
    private readonly CancellationTokenSource _stopping = new();
    private byte[] _activeSigningKeyId = [];
    private byte[] _rootsFingerprint = [];
    private long _bundleVersion;
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

    /// <summary>The first delay before reading the roots again after a failure; doubled on each failure, with jitter, up to 30 s.</summary>
    internal TimeSpan RetryInitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The least time between two root queries, so a CA that answers blocking queries at once cannot make the client spin.</summary>
    internal TimeSpan MinimumQueryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Reads the roots, then keeps following them in the background. A CA that cannot be reached, answers 5xx or times out is
    /// retried with back-off and jitter (one Warning line each) until the roots arrive or <paramref name="cancellationToken"/> fires.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired before the roots arrived.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        int failures = 0;
        long index;
        while (true)
        {
            try
            {
                index = await FetchRootsAsync(0, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                await DelayAfterFailureAsync(ex, ++failures, cancellationToken).ConfigureAwait(false);
            }
        }

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
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(SignTimeout);
        HttpResponseMessage response;
        byte[] json;
        try
        {
            response = await _http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            json = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The CA at {_http.BaseAddress} did not answer the signing request for '{_id}' within {SignTimeout.TotalSeconds:0} s.");
        }

        using (response)
        {
            if ((int)response.StatusCode >= 500)
            {
                // The CA is there but failing (or a proxy in front of it is): transient, retried by the caller.
                throw new HttpRequestException(
                    $"The CA at {_http.BaseAddress} failed to sign for '{_id}' ({(int)response.StatusCode} {response.ReasonPhrase}).", null, response.StatusCode);
            }

            if (!response.IsSuccessStatusCode)
            {
                // 400 (a CSR the CA will never sign) and 403 (a token that does not cover the identity) are refusals; 429 carries the
                // RateLimited rule, which callers retry. The token is never part of the message.
                CaError? error = TryRead(json, CaApiJsonContext.Default.CaError);
                CertificateSigningError rule = Enum.TryParse(error?.Rule, out CertificateSigningError parsed) && Enum.IsDefined(parsed)
                    ? parsed
                    : response.StatusCode switch
                    {
                        System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.Unauthorized => CertificateSigningError.Unauthorized,
                        System.Net.HttpStatusCode.TooManyRequests => CertificateSigningError.RateLimited,
                        _ => CertificateSigningError.MalformedRequest,
                    };
                throw new CertificateSigningException(rule, $"The CA at {_http.BaseAddress} refused to sign for '{_id}' ({(int)response.StatusCode}): {error?.Error ?? "no reason given"}");
            }
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
        int failures = 0;
        while (!_stopping.IsCancellationRequested)
        {
            long started = Environment.TickCount64;
            try
            {
                index = await FetchRootsAsync(index, _stopping.Token).ConfigureAwait(false);
                failures = 0;

                // Consul: "rate-limit loops that return at once". A CA that answers every blocking query at once (a bad index,
                // a restart loop) is asked at most once per interval.
                TimeSpan elapsed = TimeSpan.FromMilliseconds(Environment.TickCount64 - started);
                if (elapsed < MinimumQueryInterval)
                {
                    await Task.Delay(MinimumQueryInterval - elapsed, _stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
            catch (Exception ex) when (IsTransient(ex, _stopping.Token))
            {
                await DelayAfterFailureAsync(ex, ++failures, _stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    // Every failure to read the roots is worth retrying (they need no token): network errors, 5xx/4xx, timeouts, a bad document.
    private static bool IsTransient(Exception ex, CancellationToken stopping) =>
        !stopping.IsCancellationRequested && ex is HttpRequestException or JsonException or OperationCanceledException or FormatException
            or ArgumentException or System.Security.Cryptography.CryptographicException;

    private async Task DelayAfterFailureAsync(Exception ex, int failures, CancellationToken cancellationToken)
    {
        // Exponential with "equal jitter" (a uniform point in the upper half), so sidecars that lost the CA together do not all
        // come back in the same instant.
        double factor = Math.Pow(2, Math.Min(failures - 1, 30));
        TimeSpan cap = TimeSpan.FromTicks((long)Math.Min(RetryInitialDelay.Ticks * factor, RetryMaximumDelay.Ticks));
        TimeSpan delay = (cap / 2) + ((cap / 2) * Random.Shared.NextDouble());
        CaClientLog.RootsFailed(_logger, _http.BaseAddress!, ex.Message.ReplaceLineEndings(" "), delay);
        CaClientLog.RootsFailedDetail(_logger, ex, _http.BaseAddress!);
        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
    }

    // One blocking query (Consul's ?index=&wait=): returns at once the first time, then when the roots change or the wait passes.
    // A return does not mean a change: the roots are compared by content, because a restarted CA may start its index again at
    // the very value the client holds. An index that goes backwards is a reset (consul-semantics, blocking queries): the client
    // forgets the old index and follows the new one.
    private async Task<long> FetchRootsAsync(long index, CancellationToken cancellationToken)
    {
        string path = index <= 0
            ? CertificateAuthorityApi.RootsPath
            : string.Create(CultureInfo.InvariantCulture, $"{CertificateAuthorityApi.RootsPath}?index={index}&wait={BlockingWait.TotalSeconds}s");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(BlockingWait + TimeSpan.FromSeconds(15));
        using HttpResponseMessage response = await _http.GetAsync(new Uri(path, UriKind.Relative), timeout.Token).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        byte[] json = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
        CaRootList roots = JsonSerializer.Deserialize(json, CaApiJsonContext.Default.CaRootList) ?? throw new JsonException("empty roots document");
        long newIndex = response.Headers.TryGetValues(CertificateAuthorityApi.IndexHeader, out IEnumerable<string>? values)
            && long.TryParse(values.FirstOrDefault(), CultureInfo.InvariantCulture, out long parsed) && parsed > 0 ? parsed : 0;
        byte[] fingerprint = Fingerprint(roots);
        if (!fingerprint.AsSpan().SequenceEqual(Volatile.Read(ref _rootsFingerprint)))
        {
            Publish(roots, newIndex);
            Volatile.Write(ref _rootsFingerprint, fingerprint);
        }

        // A missing index (0) makes the next query a plain read, never a block on 0; the loop's minimum interval paces it.
        return newIndex;
    }

    // What a change of roots means to a workload: the trust domain, each root certificate and intermediate, which one is active.
    private static byte[] Fingerprint(CaRootList roots)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            hash.AppendData(BitConverter.GetBytes(bytes.Length));
            hash.AppendData(bytes);
        }

        Add(roots.TrustDomain);
        foreach (CaRootEntry root in roots.Roots)
        {
            Add(root.RootCert);
            Add(root.SigningKeyID);
            Add(root.Active ? "active" : "inactive");
            foreach (string intermediate in root.IntermediateCerts)
            {
                Add(intermediate);
            }
        }

        return hash.GetHashAndReset();
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

        // The bundle's version is this client's own count: the CA's index may go backwards when it restarts.
        _bundles.Set(new TrustBundle(Interlocked.Increment(ref _bundleVersion), new Dictionary<TrustDomain, IReadOnlyList<X509Certificate2>> { [trustDomain] = anchors }));
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
