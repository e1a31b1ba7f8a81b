namespace Mesh.Consul;

/// <summary>
/// Where the local Consul agent is and how to talk to it. <see cref="FromEnvironment"/> reads Consul's own environment variables, as
/// the <c>consul</c> CLI and Consul's Go API client do; properties set afterwards override them.
/// </summary>
public sealed class ConsulOptions
{
    /// <summary>The agent's address when neither the options nor <c>CONSUL_HTTP_ADDR</c> name one (Consul's default).</summary>
    public const string DefaultAddress = "http://127.0.0.1:8500";

    /// <summary>
    /// The agent's HTTP API: <c>host:port</c>, <c>http://host:port</c>, <c>https://host:port</c> or <c>unix:///path/to/socket</c>.
    /// Defaults to <see cref="DefaultAddress"/>.
    /// </summary>
    public string Address { get; set; } = DefaultAddress;

    /// <summary>The ACL token, sent in <c>X-Consul-Token</c> (never in a URL or a log line). Wins over <see cref="TokenFile"/>.</summary>
    public string? Token { get; set; }

    /// <summary>A file holding the ACL token (Consul's <c>CONSUL_HTTP_TOKEN_FILE</c>), read once when the client is created.</summary>
    public string? TokenFile { get; set; }

    /// <summary>A PEM file of CA certificates that the agent's HTTPS certificate must chain to (<c>CONSUL_CACERT</c>); null uses the system store.</summary>
    public string? CaCertificateFile { get; set; }

    /// <summary>A PEM client certificate for an agent that verifies incoming HTTPS clients (<c>CONSUL_CLIENT_CERT</c>).</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>The PEM private key of <see cref="ClientCertificateFile"/> (<c>CONSUL_CLIENT_KEY</c>).</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>The Enterprise namespace sent with every query (<c>CONSUL_NAMESPACE</c>); null for the token's default.</summary>
    public string? Namespace { get; set; }

    /// <summary>The Enterprise admin partition sent with every query (<c>CONSUL_PARTITION</c>); null for the token's default.</summary>
    public string? Partition { get; set; }

    /// <summary>
    /// How long a blocking query waits for a change (<c>wait=</c>). Consul's default is 5 minutes and its maximum 10 minutes; the
    /// agent adds up to 1/16 of it as jitter.
    /// </summary>
    public TimeSpan WaitTime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long beyond <see cref="WaitTime"/> (and its jitter) an answer may take before the call counts as timed out.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The shortest time between two rounds of one blocking query, so that a query that returns at once cannot spin.</summary>
    public TimeSpan MinimumRoundInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The first retry delay after a failed round; it doubles per failure up to <see cref="MaximumRetryDelay"/>, with jitter.</summary>
    public TimeSpan MinimumRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest retry delay after failed rounds.</summary>
    public TimeSpan MaximumRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Read the catalog from the agent's cache (<c>?cached</c>), which keeps answering from its last result while the servers are
    /// away. When false, catalog reads use <c>?stale</c> so that any server can answer.
    /// </summary>
    public bool UseAgentCache { get; set; } = true;

    /// <summary>The clock for back-off and cache ages; the system clock when null.</summary>
    public TimeProvider? TimeProvider { get; set; }

    /// <summary>
    /// Creates options from Consul's environment variables: <c>CONSUL_HTTP_ADDR</c> (with <c>CONSUL_HTTP_SSL=true</c> for an
    /// address without a scheme), <c>CONSUL_HTTP_TOKEN</c>, <c>CONSUL_HTTP_TOKEN_FILE</c>, <c>CONSUL_CACERT</c>,
    /// <c>CONSUL_CLIENT_CERT</c>, <c>CONSUL_CLIENT_KEY</c>, <c>CONSUL_NAMESPACE</c> and <c>CONSUL_PARTITION</c>.
    /// </summary>
    /// <param name="getVariable">Reads a variable; <see cref="Environment.GetEnvironmentVariable(string)"/> when null.</param>
    public static ConsulOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        var options = new ConsulOptions();
        string? address = NonEmpty(getVariable("CONSUL_HTTP_ADDR"));
        if (address is not null)
        {
            // Consul's api.DefaultConfig: CONSUL_HTTP_SSL=true selects https for an address given without a scheme.
            bool ssl = bool.TryParse(getVariable("CONSUL_HTTP_SSL"), out bool parsed) && parsed;
            options.Address = ssl && !address.Contains("://", StringComparison.Ordinal) ? "https://" + address : address;
        }

        options.Token = NonEmpty(getVariable("CONSUL_HTTP_TOKEN"));
        options.TokenFile = NonEmpty(getVariable("CONSUL_HTTP_TOKEN_FILE"));
        options.CaCertificateFile = NonEmpty(getVariable("CONSUL_CACERT"));
        options.ClientCertificateFile = NonEmpty(getVariable("CONSUL_CLIENT_CERT"));
        options.ClientKeyFile = NonEmpty(getVariable("CONSUL_CLIENT_KEY"));
        options.Namespace = NonEmpty(getVariable("CONSUL_NAMESPACE"));
        options.Partition = NonEmpty(getVariable("CONSUL_PARTITION"));
        return options;
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
