using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mesh.Configuration;
using Mesh.Consul.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mesh.Consul;

/// <summary>
/// A client of the local Consul agent's HTTP API, shared by the Consul sources. It holds the connection pool, the token and the
/// TLS settings; the sources run their own blocking queries through it.
/// </summary>
/// <remarks>
/// The ACL token travels only in the <c>X-Consul-Token</c> header (Consul reads it before <c>?token=</c>), so it never appears in a
/// URL, an access log or a Mesh log line.
/// </remarks>
public sealed class ConsulAgentClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly string? _token;
    private readonly X509Certificate2Collection? _trustedCas;
    private readonly X509Certificate2? _clientCertificate;

    /// <summary>Creates a client; it does not contact the agent until a source starts.</summary>
    /// <param name="options">The agent's address, credentials and query timing; <see cref="ConsulOptions.FromEnvironment"/> reads Consul's variables.</param>
    /// <param name="loggerFactory">Where the sources log; nothing is logged when null.</param>
    /// <exception cref="OptionsValidationException">The address is malformed or a timing is out of range; each message names the option.</exception>
    /// <exception cref="IOException">The token, CA or client certificate file cannot be read.</exception>
    public ConsulAgentClient(ConsulOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid(ConsulOptionsValidator.Instance);
        Options = options;
        Address = ConsulAgentAddress.Parse(options.Address);
        TimeProvider = options.TimeProvider ?? TimeProvider.System;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _token = options.Token ?? ReadTokenFile(options.TokenFile);

        var handler = new SocketsHttpHandler
        {
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AutomaticDecompression = DecompressionMethods.None,
            UseProxy = false,
        };
        if (Address.UnixSocketPath is { } socketPath)
        {
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        if (options.CaCertificateFile is not null)
        {
            _trustedCas = [];
            _trustedCas.ImportFromPemFile(options.CaCertificateFile);
            if (_trustedCas.Count == 0)
            {
                throw new IOException($"The Consul CA file '{options.CaCertificateFile}' (CONSUL_CACERT) holds no PEM certificate.");
            }

            handler.SslOptions.RemoteCertificateValidationCallback = ValidateAgentCertificate;
        }

        if (options.ClientCertificateFile is not null)
        {
            _clientCertificate = X509Certificate2.CreateFromPemFile(options.ClientCertificateFile, options.ClientKeyFile!);
            handler.SslOptions.ClientCertificates = [_clientCertificate];
        }

        _http = new HttpClient(handler) { BaseAddress = Address.BaseUri, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The agent's address as configured (a unix socket shows as <c>unix:///path</c>).</summary>
    public string AgentAddress => Address.ToString();

    internal ConsulAgentAddress Address { get; }

    internal ConsulOptions Options { get; }

    internal TimeProvider TimeProvider { get; }

    internal ILoggerFactory LoggerFactory { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _clientCertificate?.Dispose();
        if (_trustedCas is not null)
        {
            foreach (X509Certificate2 certificate in _trustedCas)
            {
                certificate.Dispose();
            }
        }
    }

    /// <summary>
    /// Sends one request. A blocking read passes <paramref name="blockingIndex"/> (Consul's <c>index</c>) or
    /// <paramref name="blockingHash"/> (the agent's <c>hash</c>), and the wait from the options.
    /// </summary>
    /// <exception cref="ConsulRequestException">No answer, a time-out, or a status other than 2xx and 403.</exception>
    /// <exception cref="ConsulPermissionDeniedException">403.</exception>
    internal async Task<ConsulResponse> SendAsync(ConsulRequest request, ulong? blockingIndex, string? blockingHash, CancellationToken cancellationToken)
    {
        var query = new StringBuilder(request.Path);
        char separator = '?';
        foreach ((string key, string? value) in request.Query)
        {
            query.Append(separator).Append(Uri.EscapeDataString(key));
            if (value is not null)
            {
                query.Append('=').Append(Uri.EscapeDataString(value));
            }

            separator = '&';
        }

        bool blocking = blockingIndex is not null || blockingHash is not null;
        if (blocking)
        {
            query.Append(separator).Append(blockingHash is not null ? "hash=" + Uri.EscapeDataString(blockingHash) : "index=" + blockingIndex!.Value.ToString(CultureInfo.InvariantCulture));
            query.Append("&wait=").Append(((long)Options.WaitTime.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)).Append("ms");
        }

        using var message = new HttpRequestMessage(request.Method, new Uri(query.ToString(), UriKind.Relative));
        if (_token is not null)
        {
            message.Headers.TryAddWithoutValidation("X-Consul-Token", _token);
        }

        if (Options.Namespace is not null)
        {
            message.Headers.TryAddWithoutValidation("X-Consul-Namespace", Options.Namespace);
        }

        if (Options.Partition is not null)
        {
            message.Headers.TryAddWithoutValidation("X-Consul-Partition", Options.Partition);
        }

        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        // The agent holds a blocking read for the wait plus up to wait/16 of jitter; anything longer is a hung agent.
        TimeSpan limit = (blocking ? Options.WaitTime + (Options.WaitTime / 16) : TimeSpan.Zero) + Options.RequestTimeout;
        using var timeout = new CancellationTokenSource(limit, TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
            byte[] body = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            var result = new ConsulResponse(
                response.StatusCode,
                body,
                ReadIndex(response),
                Header(response, "X-Consul-ContentHash"),
                Header(response, "X-Cache") is { } cache ? string.Equals(cache, "HIT", StringComparison.OrdinalIgnoreCase) : null,
                response.Headers.Age);
            return (int)response.StatusCode switch
            {
                >= 200 and < 300 => result,
                403 => throw new ConsulPermissionDeniedException($"{request.Method} {request.Path}", request.RequiredPermission, AgentMessage(body)),
                404 => throw new ConsulRequestException(ConsulFailureClass.NotFound, $"{request.Method} {request.Path} answered 404: {AgentMessage(body)}"),
                429 or >= 500 => throw new ConsulRequestException(ConsulFailureClass.ServerError, $"{request.Method} {request.Path} answered {(int)response.StatusCode}: {AgentMessage(body)}"),
                _ => throw new ConsulRequestException(ConsulFailureClass.InvalidResponse, $"{request.Method} {request.Path} answered {(int)response.StatusCode}: {AgentMessage(body)}"),
            };
        }
        catch (OperationCanceledException exception) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ConsulRequestException(ConsulFailureClass.Timeout, $"{request.Method} {request.Path} got no answer from the Consul agent at {Address} within {limit}.", exception);
        }
        catch (HttpRequestException exception)
        {
            throw new ConsulRequestException(ConsulFailureClass.Unreachable, $"{request.Method} {request.Path}: the Consul agent at {Address} is unreachable ({exception.Message}).", exception);
        }
        catch (IOException exception)
        {
            throw new ConsulRequestException(ConsulFailureClass.Unreachable, $"{request.Method} {request.Path}: the connection to the Consul agent at {Address} failed ({exception.Message}).", exception);
        }
    }

    private static ulong? ReadIndex(HttpResponseMessage response) =>
        Header(response, "X-Consul-Index") is { } text && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out ulong index) ? index : null;

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out IEnumerable<string>? values) ? values.FirstOrDefault() : null;

    // Agent error bodies are short plain text ("Permission denied", "Unknown service ID"); cap them for the message.
    private static string AgentMessage(byte[] body)
    {
        string text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 256)).Trim();
        return text.Length == 0 ? "(no message)" : text;
    }

    private static string? ReadTokenFile(string? path)
    {
        if (path is null)
        {
            return null;
        }

        try
        {
            string token = File.ReadAllText(path).Trim();
            return token.Length == 0 ? null : token;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"The Consul token file '{path}' (CONSUL_HTTP_TOKEN_FILE) cannot be read: {exception.Message}", exception);
        }
    }

    // CONSUL_CACERT: the agent's certificate must chain to one of these CAs (and only these), with its host name checked.
    private bool ValidateAgentCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trustedCas!);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (X509ChainElement element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (certificate is X509Certificate2 leaf)
        {
            return custom.Build(leaf);
        }

        using X509Certificate2 copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(copy);
    }
}
