using Mesh.Identity;
using Mesh.Tls.Configuration;
using Mesh.Tls.Outbound;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.InProcess;

/// <summary>
/// The rules of <see cref="MeshOptions"/>, its upstreams included: <c>AddMesh</c> runs them when the host starts and
/// <see cref="MeshService"/>'s public constructor when it is built directly. Each message names the option.
/// </summary>
internal sealed class MeshOptionsValidator : IValidateOptions<MeshOptions>
{
    internal static readonly MeshOptionsValidator Instance = new();

    private const string Upstream = "MeshOptions.Upstreams[]";

    public ValidateOptionsResult Validate(string? name, MeshOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Service))
        {
            failures.Add("MeshOptions.Service is required: the name of this service in the mesh, such as \"dashboard\".");
        }
        else
        {
            OptionRules.AddIfInvalidNamePart(failures, options.Service, "MeshOptions.Service", "service name");
        }

        if (string.IsNullOrWhiteSpace(options.Datacenter))
        {
            failures.Add("MeshOptions.Datacenter is required: the datacenter this service runs in, such as \"dc1\".");
        }
        else
        {
            OptionRules.AddIfInvalidNamePart(failures, options.Datacenter, "MeshOptions.Datacenter", "datacenter");
        }

        OptionRules.AddIfInvalidNamePart(failures, options.Namespace, "MeshOptions.Namespace", "namespace");
        OptionRules.AddIfInvalidNamePart(failures, options.Partition, "MeshOptions.Partition", "partition");
        if (options.TrustDomain is not null && !TrustDomain.TryParse(options.TrustDomain, out _, out SpiffeIdError error))
        {
            failures.Add($"MeshOptions.TrustDomain: '{options.TrustDomain}' is not a valid trust domain ({SpiffeId.Describe(error)}); use the mesh's \"<cluster-uuid>.consul\".");
        }

        if (options.CertificateAuthorityAddress is { IsAbsoluteUri: false } or { Scheme: not ("http" or "https") })
        {
            failures.Add($"MeshOptions.CertificateAuthorityAddress: '{options.CertificateAuthorityAddress}' is not an absolute http(s) URL such as http://127.0.0.1:8501.");
        }

        // Without a control-plane file the identity, CA and trust domain must come from the options or from other sources.
        bool fromOptions = options.ControlPlaneFile is null && options.ControlPlaneSources is null;
        if (fromOptions && options.CertificateAuthorityAddress is null)
        {
            failures.Add("MeshOptions: set ControlPlaneFile (catalog, intentions and CA address), or CertificateAuthorityAddress with Token and register IServiceCatalog and IIntentionSource.");
        }

        if (fromOptions && options.TrustDomain is null)
        {
            failures.Add("MeshOptions.TrustDomain is required when no ControlPlaneFile gives it.");
        }

        if (fromOptions && options.CertificateAuthorityAddress is not null && string.IsNullOrEmpty(options.Token))
        {
            failures.Add("MeshOptions.Token is required: the CA signs this service's CSRs only with its token.");
        }

        if (options.ControlPlanePollInterval < TimeSpan.Zero || options.ControlPlanePollInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"MeshOptions.ControlPlanePollInterval must be between 0 (never reload) and 1 hour (it is {options.ControlPlanePollInterval}).");
        }

        if (options.ConnectTimeout <= TimeSpan.Zero || options.ConnectTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"MeshOptions.ConnectTimeout must be above 0 and at most 10 minutes (it is {options.ConnectTimeout}).");
        }

        if (options.HandshakeTimeout <= TimeSpan.Zero || options.HandshakeTimeout > TimeSpan.FromMinutes(10))
        {
            failures.Add($"MeshOptions.HandshakeTimeout must be above 0 and at most 10 minutes (it is {options.HandshakeTimeout}).");
        }

        if (options.DefaultIntentionPolicy is not (null or "allow" or "deny"))
        {
            failures.Add($"MeshOptions.DefaultIntentionPolicy must be \"allow\", \"deny\" or unset (it is \"{options.DefaultIntentionPolicy}\").");
        }

        AddUpstreamFailures(failures, options.Upstreams);
        return OptionRules.ToResult(failures);
    }

    private static void AddUpstreamFailures(List<string> failures, IList<MeshUpstream> upstreams)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (MeshUpstream? upstream in upstreams)
        {
            if (upstream is null)
            {
                failures.Add($"{Upstream} holds a null entry: give each upstream at least its Name.");
                continue;
            }

            upstream.Validate(failures, Upstream, requireLocalBindAddress: false);
            if (upstream.Name is not null && !names.Add(upstream.Name))
            {
                failures.Add($"MeshOptions.Upstreams: '{upstream.Name}' is listed twice; give each upstream one entry.");
            }
        }
    }
}
