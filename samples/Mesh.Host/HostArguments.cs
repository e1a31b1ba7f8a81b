using System.Net;

namespace Mesh.Host;

/// <summary>
/// The command line of the host: which role to run, from which control plane (a control-plane file, or a Consul agent with
/// --consul). Parsing is strict: an unknown option, a
/// missing value or a value given twice is an error (with the closest option suggested), never silently ignored.
/// </summary>
internal sealed class HostArguments
{
    public const string Usage = """
        Mesh.Host: runs one role of a Mesh service mesh from a control-plane file, or as the data plane of a Consul cluster.

        usage: Mesh.Host --role ca|gateway|sidecar --config FILE [options]
               Mesh.Host --role sidecar --consul [ADDR] --sidecar-for SERVICE-ID [options]
               Mesh.Host --role gateway --consul [ADDR] --service GATEWAY-ID [options]

          --role ca         the mesh CA: signs CSRs over HTTP at the file's CA.Address, serves the roots
          --role gateway    a mesh gateway of --datacenter: routes TLS by SNI, never decrypts
          --role sidecar    the sidecar of --service: upstream listeners, mTLS public listener, intentions
          --config FILE     the control-plane file (JSON); reloaded when it changes
          --datacenter DC   gateway: the datacenter it serves
          --service ID      sidecar: the service instance ID (or name) it fronts; with --consul, the proxy's own service ID;
                            gateway with --consul: the mesh-gateway service ID registered with the agent
          --token TOKEN     sidecar: the token the CA requires for the service's certificates (or MESH_TOKEN);
                            with --consul: the Consul ACL token (or CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE)
          --consul [ADDR]   read leaf, roots, catalog, intentions and the registration from the local Consul agent instead of
                            a file: ADDR as CONSUL_HTTP_ADDR takes it (default: CONSUL_HTTP_ADDR, else 127.0.0.1:8500); TLS,
                            namespace and partition from Consul's CONSUL_* variables
          --sidecar-for ID  sidecar with --consul: the service instance whose registered connect-proxy to run
          --ca-wait SECONDS sidecar (file): how long start-up waits for an unreachable CA, retrying, before it gives up (default 120)
          --data-dir DIR    ca: where the CA keeps its state (default: .mesh-ca beside the control-plane file)
          --health IP:PORT  where /health/live and /health/ready answer (the CA answers on its own address)
          --verbose         log at Debug, and print the stack trace of a start-up failure
          --help            this text

        Logs go to the console, one line each; set MESH_LOG_FORMAT=json for JSON lines. Ctrl+C or SIGTERM drains open
        connections for up to 10 s, then stops.

        A start-up failure prints one line on stderr and exits with:
          0  stopped normally, or --help
          1  an unexpected failure (--verbose shows the stack trace)
          2  usage: an unknown option, a missing or malformed value
          3  configuration: the control-plane file is unreadable or invalid, or lacks the datacenter, service, CA or token;
             or the Consul agent has no such registration
          4  an address the role listens on (CA, gateway, sidecar public or upstream listener, health) is in use
          5  refused for good: the CA refused the certificate request (wrong token, a request it never signs), or the Consul
             agent answered 403 (the token lacks the ACL permission the line names)
          6  the CA could not be reached and the role gave up
        """;

    private static readonly string[] ValueOptions = ["role", "config", "datacenter", "service", "token", "ca-wait", "data-dir", "health", "sidecar-for"];
    private static readonly string[] FlagOptions = ["verbose", "help"];

    // Options whose value may be left out: --consul alone means Consul's own default address (CONSUL_HTTP_ADDR).
    private static readonly string[] OptionalValueOptions = ["consul"];

    public string Role { get; private init; } = string.Empty;

    public string ConfigPath { get; private init; } = string.Empty;

    public string? Datacenter { get; private init; }

    public string? Service { get; private init; }

    public string? Token { get; private init; }

    /// <summary>Whether the control plane is a Consul agent (--consul) rather than a control-plane file.</summary>
    public bool UsesConsul { get; private init; }

    /// <summary>The agent's address given to --consul; null for CONSUL_HTTP_ADDR or Consul's default.</summary>
    public string? ConsulAddress { get; private init; }

    /// <summary>The Consul ACL token given to --token with --consul; null for CONSUL_HTTP_TOKEN(_FILE).</summary>
    public string? ConsulToken { get; private init; }

    /// <summary>The service instance whose sidecar registration the Consul sidecar runs (--sidecar-for).</summary>
    public string? SidecarFor { get; private init; }

    public IPEndPoint? Health { get; private init; }

    /// <summary>How long a sidecar's start-up retries an unreachable CA before it gives up: --ca-wait, 120 s by default.</summary>
    public TimeSpan CaWait { get; private init; }

    /// <summary>The CA role's data directory: --data-dir, or the folder <c>.mesh-ca</c> beside the control-plane file.</summary>
    public string DataDirectory { get; private init; } = string.Empty;

    /// <summary>Debug logging, and stack traces on start-up failures.</summary>
    public bool Verbose { get; private init; }

    /// <summary>Parses the command line; null with <paramref name="error"/> null means --help was asked for.</summary>
    public static HostArguments? Parse(string[] args, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        error = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string argument = args[i];
            if (argument is "-h" or "-?")
            {
                argument = "--help";
            }

            if (!argument.StartsWith("--", StringComparison.Ordinal) || argument.Length == 2)
            {
                error = $"unexpected argument '{argument}': every value follows its option, as in --config FILE";
                return null;
            }

            // --name value, or --name=value.
            string name = argument[2..];
            string? inlineValue = null;
            int equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                inlineValue = name[(equals + 1)..];
                name = name[..equals];
            }

            if (OptionalValueOptions.Contains(name))
            {
                string optional = inlineValue
                    ?? (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : string.Empty);
                if (inlineValue is not null && inlineValue.Length == 0)
                {
                    error = $"--{name}= needs a value, or leave out the '=': --{name} [{Placeholder(name)}]";
                    return null;
                }

                if (!values.TryAdd(name, optional))
                {
                    error = $"--{name} is given twice";
                    return null;
                }

                continue;
            }

            if (FlagOptions.Contains(name))
            {
                if (inlineValue is not null)
                {
                    error = $"--{name} takes no value";
                    return null;
                }

                flags.Add(name);
                continue;
            }

            if (!ValueOptions.Contains(name))
            {
                string? closest = Closest(name);
                error = closest is null
                    ? $"unknown option '--{name}' (see --help)"
                    : $"unknown option '--{name}' (did you mean --{closest}?)";
                return null;
            }

            string? value = inlineValue;
            if (value is null && i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }

            if (string.IsNullOrEmpty(value))
            {
                error = $"--{name} needs a value: --{name} {Placeholder(name)}";
                return null;
            }

            if (!values.TryAdd(name, value))
            {
                error = $"--{name} is given twice ('{values[name]}' and '{value}')";
                return null;
            }
        }

        if (flags.Contains("help"))
        {
            return null;
        }

        string? role = values.GetValueOrDefault("role");
        if (role is not ("ca" or "gateway" or "sidecar"))
        {
            error = role is null ? "--role is required: --role ca|gateway|sidecar" : $"unknown role '{role}': --role ca|gateway|sidecar";
            return null;
        }

        bool consul = values.TryGetValue("consul", out string? consulAddress);
        values.TryGetValue("config", out string? config);
        if (consul && config is not null)
        {
            error = "--config and --consul are alternatives: the control plane is either a file or a Consul agent";
            return null;
        }

        if (consul && role == "ca")
        {
            error = "--role ca has no --consul: with Consul, the Consul servers are the CA";
            return null;
        }

        if (!consul && config is null)
        {
            error = "--config is required: --config FILE, the control-plane file (or --consul [ADDR] for a Consul agent)";
            return null;
        }

        if (!consul && values.ContainsKey("sidecar-for"))
        {
            error = "--sidecar-for reads the sidecar's registration from a Consul agent: add --consul [ADDR]";
            return null;
        }

        IPEndPoint? health = null;
        if (values.TryGetValue("health", out string? healthText) && !TryParseEndPoint(healthText, out health))
        {
            error = $"--health '{healthText}' is not IP:PORT with a port, such as 127.0.0.1:19000";
            return null;
        }

        TimeSpan caWait = TimeSpan.FromSeconds(120);
        if (values.TryGetValue("ca-wait", out string? caWaitText))
        {
            if (!int.TryParse(caWaitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int seconds) || seconds < 1)
            {
                error = $"--ca-wait '{caWaitText}' is not a whole number of seconds, 1 or more";
                return null;
            }

            caWait = TimeSpan.FromSeconds(seconds);
        }

        var parsed = new HostArguments
        {
            Role = role,
            ConfigPath = config ?? string.Empty,
            UsesConsul = consul,
            ConsulAddress = string.IsNullOrEmpty(consulAddress) ? null : consulAddress,
            ConsulToken = consul ? values.GetValueOrDefault("token") : null,
            SidecarFor = values.GetValueOrDefault("sidecar-for"),
            Datacenter = values.GetValueOrDefault("datacenter"),
            Service = values.GetValueOrDefault("service"),
            Token = consul ? null : values.GetValueOrDefault("token") ?? Environment.GetEnvironmentVariable("MESH_TOKEN"),
            Health = health,
            CaWait = caWait,
            DataDirectory = values.GetValueOrDefault("data-dir")
                ?? (config is null ? string.Empty : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(config)) ?? ".", ".mesh-ca")),
            Verbose = flags.Contains("verbose"),
        };

        error = role switch
        {
            "gateway" when consul && parsed.Service is null => "--service is required for the gateway role with --consul: the mesh-gateway service ID registered with the agent",
            "gateway" when !consul && parsed.Datacenter is null => "--datacenter is required for the gateway role",
            "sidecar" when consul && parsed.Service is null && parsed.SidecarFor is null => "--sidecar-for SERVICE-ID (or --service PROXY-ID) is required for the sidecar role with --consul",
            "sidecar" when consul && parsed.Service is not null && parsed.SidecarFor is not null => "--sidecar-for and --service name the same proxy two ways: give one",
            "sidecar" when !consul && parsed.Service is null => "--service is required for the sidecar role",
            _ => null,
        };
        return error is null ? parsed : null;
    }

    /// <summary>An explicit IP and port: IPEndPoint.TryParse alone would take "127.0.0.1" as port 0, a random port.</summary>
    private static bool TryParseEndPoint(string text, out IPEndPoint? endPoint)
    {
        endPoint = null;
        int colon = text.LastIndexOf(':');
        bool hasPort = colon > 0 && (text[0] != '[' || text[colon - 1] == ']');
        if (!hasPort || !IPEndPoint.TryParse(text, out IPEndPoint? parsed))
        {
            return false;
        }

        endPoint = parsed;
        return true;
    }

    private static string Placeholder(string option) => option switch
    {
        "role" => "ca|gateway|sidecar",
        "config" => "FILE",
        "datacenter" => "DC",
        "service" => "ID",
        "token" => "TOKEN",
        "data-dir" => "DIR",
        "ca-wait" => "SECONDS",
        "health" => "IP:PORT",
        "consul" => "ADDR",
        "sidecar-for" => "SERVICE-ID",
        _ => "VALUE",
    };

    /// <summary>The known option closest to a mistyped one (at most a third of its letters apart), for "did you mean".</summary>
    private static string? Closest(string name)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string known in ValueOptions.Concat(OptionalValueOptions).Concat(FlagOptions))
        {
            int distance = EditDistance(name, known);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (known, distance);
            }
        }

        return bestDistance <= Math.Max(1, best!.Length / 3) ? best : null;
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
