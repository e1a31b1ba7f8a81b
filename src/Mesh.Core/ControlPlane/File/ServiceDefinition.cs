using System.Net;
using Mesh.Identity;

namespace Mesh.ControlPlane.File;

/// <summary>
/// One service instance of the control-plane file: where the application listens, where its mesh endpoint (a sidecar's public
/// listener, or the service itself when it joins the mesh natively) accepts mTLS, and its upstreams.
/// </summary>
public sealed class ServiceDefinition
{
    internal ServiceDefinition(
        string id,
        ServiceIdentity identity,
        IPEndPoint applicationAddress,
        IPEndPoint meshAddress,
        bool isNative,
        bool isHealthy,
        IReadOnlyDictionary<string, string> meta,
        IReadOnlyList<UpstreamDefinition> upstreams)
    {
        Id = id;
        Identity = identity;
        ApplicationAddress = applicationAddress;
        MeshAddress = meshAddress;
        IsNative = isNative;
        IsHealthy = isHealthy;
        Meta = meta;
        Upstreams = upstreams;
    }

    /// <summary>The instance ID (Consul's service ID); the service name when the file gives none.</summary>
    public string Id { get; }

    /// <summary>The service and datacenter.</summary>
    public ServiceIdentity Identity { get; }

    /// <summary>Where the application itself listens (the sidecar's local-app target).</summary>
    public IPEndPoint ApplicationAddress { get; }

    /// <summary>Where mesh mTLS connections for this instance are accepted.</summary>
    public IPEndPoint MeshAddress { get; }

    /// <summary>Whether the service terminates mesh mTLS itself (Consul's <c>Connect.Native</c>) rather than through a sidecar.</summary>
    public bool IsNative { get; }

    /// <summary>Whether the instance's health is passing; only healthy instances receive traffic.</summary>
    public bool IsHealthy { get; }

    /// <summary>Service metadata (used by subsets).</summary>
    public IReadOnlyDictionary<string, string> Meta { get; }

    /// <summary>The upstreams the instance's sidecar (or in-process mesh) serves.</summary>
    public IReadOnlyList<UpstreamDefinition> Upstreams { get; }

    /// <summary>
    /// Where the sidecar's check of the application connects (Consul's <c>Check.TCP</c>); null when the definition has no check,
    /// and the sidecar checks <see cref="ApplicationAddress"/>.
    /// </summary>
    public IPEndPoint? CheckAddress { get; private init; }

    /// <summary>How often the check runs (Consul's <c>Check.Interval</c>); null when the definition has no check.</summary>
    public TimeSpan? CheckInterval { get; private init; }

    /// <summary>How long one check may take (Consul's <c>Check.Timeout</c>, 10 s when not given); null when the definition has no check.</summary>
    public TimeSpan? CheckTimeout { get; private init; }

    /// <summary>This definition with the TCP check of <paramref name="check"/>, or as it is when there is none.</summary>
    internal ServiceDefinition WithCheck(CheckDocument? check, string at, Func<string, string, Exception> fail)
    {
        if (check is null)
        {
            return this;
        }

        // Consul's TCP check: an address with a port, and a required interval (agent/structs/check_type.go); only IP addresses
        // here, since the file names every endpoint by address.
        if (!IPEndPoint.TryParse(check.TCP ?? string.Empty, out IPEndPoint? address) || address.Port == 0)
        {
            throw fail(at + ".TCP", $"'{Quote(check.TCP)}' is not an address with a port such as 127.0.0.1:9003 (only TCP checks are supported)");
        }

        TimeSpan interval = Duration(check.Interval, at + ".Interval", fail) ?? throw fail(at + ".Interval", "is required for a TCP check (for example \"10s\")");
        TimeSpan timeout = Duration(check.Timeout, at + ".Timeout", fail) ?? TimeSpan.FromSeconds(10);
        return new ServiceDefinition(Id, Identity, ApplicationAddress, MeshAddress, IsNative, IsHealthy, Meta, Upstreams)
        {
            CheckAddress = address,
            CheckInterval = interval,
            CheckTimeout = timeout,
        };
    }

    // A Go duration as Consul writes them ("10s", "500ms", "1m30s"): numbers with the units h, m, s, ms; positive, at most a day.
    private static TimeSpan? Duration(string? text, string field, Func<string, string, Exception> fail)
    {
        if (text is null)
        {
            return null;
        }

        TimeSpan total = TimeSpan.Zero;
        int i = 0;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            int unitStart = i;
            while (i < text.Length && char.IsAsciiLetterLower(text[i]))
            {
                i++;
            }

            if (!double.TryParse(text.AsSpan(start, unitStart - start), System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out double value))
            {
                throw fail(field, $"'{Quote(text)}' is not a duration such as \"10s\" or \"500ms\"");
            }

            double? milliseconds = text.AsSpan(unitStart, i - unitStart) switch
            {
                "ms" => value,
                "s" => value * 1000,
                "m" => value * 60_000,
                "h" => value * 3_600_000,
                _ => null,
            };
            total += TimeSpan.FromMilliseconds(milliseconds ?? throw fail(field, $"'{Quote(text)}' is not a duration such as \"10s\" or \"500ms\" (units h, m, s, ms)"));
            if (total > TimeSpan.FromDays(1))
            {
                throw fail(field, $"'{Quote(text)}' is longer than a day");
            }
        }

        return total > TimeSpan.Zero ? total : throw fail(field, $"'{Quote(text)}' must be a positive duration");
    }

    private static string Quote(string? value) => value is null ? "(none)" : value.Length <= 100 ? value : value[..100] + "…";
}
