namespace Mesh.Consul.Client;

/// <summary>
/// A parsed agent address: the base URI requests are sent to and, for a unix socket, the socket's path. Accepts the forms Consul's
/// <c>CONSUL_HTTP_ADDR</c> accepts: <c>host:port</c> (http), <c>http://</c>, <c>https://</c> and <c>unix://</c>.
/// </summary>
internal sealed record ConsulAgentAddress(Uri BaseUri, string? UnixSocketPath)
{
    public static ConsulAgentAddress Parse(string address)
    {
        if (string.IsNullOrWhiteSpace(address))
        {
            throw new ArgumentException("The Consul agent address is empty; set ConsulOptions.Address or CONSUL_HTTP_ADDR (e.g. 127.0.0.1:8500).", nameof(address));
        }

        address = address.Trim();
        if (address.StartsWith("unix://", StringComparison.OrdinalIgnoreCase))
        {
            string path = address["unix://".Length..];
            if (path.Length == 0)
            {
                throw new ArgumentException($"The Consul agent address '{address}' names no socket path; write unix:///path/to/consul.sock.", nameof(address));
            }

            // The host name is only a placeholder: every connection goes to the socket.
            return new ConsulAgentAddress(new Uri("http://localhost/"), path);
        }

        string withScheme = address.Contains("://", StringComparison.Ordinal) ? address : "http://" + address;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The Consul agent address '{address}' is not host:port, http://host:port, https://host:port or unix:///path.", nameof(address));
        }

        return new ConsulAgentAddress(new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"), null);
    }

    /// <summary>The address as a user would write it, for log lines and errors.</summary>
    public override string ToString() => UnixSocketPath is null ? BaseUri.GetLeftPart(UriPartial.Authority) : "unix://" + UnixSocketPath;
}
