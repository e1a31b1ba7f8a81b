using System.Net;

namespace Mesh.Host;

/// <summary>The command line of the host: which role to run, from which control-plane file.</summary>
internal sealed class HostArguments
{
    public const string Usage = """
        Mesh.Host: runs one role of a Mesh service mesh from a control-plane file.

        usage: Mesh.Host --role ca|gateway|sidecar --config FILE [options]

          --role ca         the mesh CA: signs CSRs over HTTP at the file's CA.Address, serves the roots
          --role gateway    a mesh gateway of --datacenter: routes TLS by SNI, never decrypts
          --role sidecar    the sidecar of --service: upstream listeners, mTLS public listener, intentions
          --config FILE     the control-plane file (JSON); reloaded when it changes
          --datacenter DC   gateway: the datacenter it serves
          --service ID      sidecar: the service instance ID (or name) it fronts
          --token TOKEN     sidecar: the token the CA requires for the service's certificates (or MESH_TOKEN)
          --health IP:PORT  where /health/live and /health/ready answer (the CA answers on its own address)
          --help            this text

        Logs go to the console, one line each; set MESH_LOG_FORMAT=json for JSON lines. Ctrl+C or SIGTERM drains open
        connections for up to 10 s, then stops.
        """;

    public string Role { get; private init; } = string.Empty;

    public string ConfigPath { get; private init; } = string.Empty;

    public string? Datacenter { get; private init; }

    public string? Service { get; private init; }

    public string? Token { get; private init; }

    public IPEndPoint? Health { get; private init; }

    public string DataDirectory { get; private init; } = string.Empty;

    public static HostArguments? Parse(string[] args, out string? error)
    {
        error = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                return null;
            }

            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                error = $"unexpected argument '{args[i]}'";
                return null;
            }

            values[args[i][2..]] = args[++i];
        }

        string? role = values.GetValueOrDefault("role");
        if (role is not ("ca" or "gateway" or "sidecar"))
        {
            error = role is null ? "--role is required" : $"unknown role '{role}'";
            return null;
        }

        if (!values.TryGetValue("config", out string? config))
        {
            error = "--config is required";
            return null;
        }

        IPEndPoint? health = null;
        if (values.TryGetValue("health", out string? healthText) && !IPEndPoint.TryParse(healthText, out health))
        {
            error = $"--health '{healthText}' is not IP:PORT";
            return null;
        }

        var parsed = new HostArguments
        {
            Role = role,
            ConfigPath = config,
            Datacenter = values.GetValueOrDefault("datacenter"),
            Service = values.GetValueOrDefault("service"),
            Token = values.GetValueOrDefault("token") ?? Environment.GetEnvironmentVariable("MESH_TOKEN"),
            Health = health,
            DataDirectory = values.GetValueOrDefault("data-dir") ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(config)) ?? ".", ".mesh-ca"),
        };

        error = role switch
        {
            "gateway" when parsed.Datacenter is null => "--datacenter is required for the gateway role",
            "sidecar" when parsed.Service is null => "--service is required for the sidecar role",
            _ => null,
        };
        return error is null ? parsed : null;
    }
}
