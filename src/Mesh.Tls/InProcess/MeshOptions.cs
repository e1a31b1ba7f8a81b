using System.ComponentModel.DataAnnotations;
using Mesh.Identity;
using Mesh.Tls.Outbound;

namespace Mesh.Tls.InProcess;

/// <summary>
/// Settings of an in-process mesh member (<see cref="MeshService"/>): who the service is, where its control plane and CA are,
/// its upstreams and timeouts. Validated when the host starts (<see cref="MeshOptionsValidator"/>); each message names the option.
/// </summary>
public sealed class MeshOptions : IValidatableObject
{
    /// <summary>The service's name, as in its SPIFFE ID (<c>.../svc/&lt;name&gt;</c>). Required.</summary>
    [Required(ErrorMessage = "MeshOptions.Service is required: the name of this service in the mesh, such as \"dashboard\".")]
    public string? Service { get; set; }

    /// <summary>The service's namespace; <c>default</c> when null.</summary>
    public string? Namespace { get; set; }

    /// <summary>The service's admin partition; <c>default</c> when null.</summary>
    public string? Partition { get; set; }

    /// <summary>The service's datacenter. Required.</summary>
    [Required(ErrorMessage = "MeshOptions.Datacenter is required: the datacenter this service runs in, such as \"dc1\".")]
    public string? Datacenter { get; set; }

    /// <summary>The mesh's trust domain (<c>&lt;cluster-uuid&gt;.consul</c>); taken from the control-plane file when null.</summary>
    public string? TrustDomain { get; set; }

    /// <summary>
    /// The control-plane file (the same format the sidecar host reads): catalog, mesh gateways, intentions, CA address and tokens.
    /// Required unless the catalog and intentions are registered in the service collection as <c>IServiceCatalog</c> and
    /// <c>IIntentionSource</c>.
    /// </summary>
    public string? ControlPlaneFile { get; set; }

    /// <summary>
    /// Builds the leaf, trust bundle, catalog and intention sources in place of the control-plane file and the CA, such as from a
    /// Consul agent (Mesh.Consul's <c>UseConsul</c>). Called once, when the <see cref="MeshService"/> is created; the trust domain
    /// then comes from the first leaf unless <see cref="TrustDomain"/> is set. Null (the default) uses the file and the CA.
    /// </summary>
    public Func<IServiceProvider, MeshControlPlaneSources>? ControlPlaneSources { get; set; }

    /// <summary>How often the control-plane file is checked for changes (1 s).</summary>
    public TimeSpan ControlPlanePollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The CA role's HTTP address; the control-plane file's <c>CA.Address</c> when null.</summary>
    public Uri? CertificateAuthorityAddress { get; set; }

    /// <summary>The token the CA requires for this service's CSRs; the control-plane file's token for the service when null.</summary>
    public string? Token { get; set; }

    /// <summary>The upstreams this service dials by name (<see cref="MeshUpstream.Name"/>), with their destination's datacenter, namespace and subset.</summary>
    public IList<MeshUpstream> Upstreams { get; } = [];

    /// <summary>
    /// <c>allow</c> or <c>deny</c>: the decision for inbound callers no intention matches, overriding the control plane's
    /// <c>DefaultIntentionPolicy</c>; the control plane's policy (deny unless it says allow) when null.
    /// </summary>
    [AllowedValues(null, "allow", "deny", ErrorMessage = "MeshOptions.DefaultIntentionPolicy must be \"allow\", \"deny\" or unset.")]
    public string? DefaultIntentionPolicy { get; set; }

    /// <summary>How long connecting to one endpoint may take before the next is tried (10 s, as Consul's proxies).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an mTLS handshake may take, either side (10 s).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The service name with its namespace and partition.</summary>
    internal ServiceName ServiceName => new(Service!, Namespace, Partition);

    /// <summary>Finds the configured upstream called <paramref name="name"/>.</summary>
    internal MeshUpstream? FindUpstream(string name)
    {
        foreach (MeshUpstream upstream in Upstreams)
        {
            if (string.Equals(upstream.Name, name, StringComparison.Ordinal))
            {
                return upstream;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var results = new List<ValidationResult>();
        Part(results, Service, nameof(Service), "service name");
        Part(results, Namespace, nameof(Namespace), "namespace");
        Part(results, Partition, nameof(Partition), "partition");
        Part(results, Datacenter, nameof(Datacenter), "datacenter");
        if (TrustDomain is not null && !Identity.TrustDomain.TryParse(TrustDomain, out _, out SpiffeIdError error))
        {
            results.Add(new ValidationResult(
                $"MeshOptions.TrustDomain: '{TrustDomain}' is not a valid trust domain ({SpiffeId.Describe(error)}); use the mesh's \"<cluster-uuid>.consul\".",
                [nameof(TrustDomain)]));
        }

        if (CertificateAuthorityAddress is { IsAbsoluteUri: false } or { Scheme: not ("http" or "https") })
        {
            results.Add(new ValidationResult(
                $"MeshOptions.CertificateAuthorityAddress: '{CertificateAuthorityAddress}' is not an absolute http(s) URL such as http://127.0.0.1:8501.",
                [nameof(CertificateAuthorityAddress)]));
        }

        if (ControlPlaneFile is null && CertificateAuthorityAddress is null && ControlPlaneSources is null)
        {
            results.Add(new ValidationResult(
                "MeshOptions: set ControlPlaneFile (catalog, intentions and CA address), or CertificateAuthorityAddress with Token and register IServiceCatalog and IIntentionSource.",
                [nameof(ControlPlaneFile), nameof(CertificateAuthorityAddress)]));
        }

        if (ControlPlaneFile is null && TrustDomain is null && ControlPlaneSources is null)
        {
            results.Add(new ValidationResult("MeshOptions.TrustDomain is required when no ControlPlaneFile gives it.", [nameof(TrustDomain)]));
        }

        if (ControlPlaneFile is null && CertificateAuthorityAddress is not null && ControlPlaneSources is null && string.IsNullOrEmpty(Token))
        {
            results.Add(new ValidationResult("MeshOptions.Token is required: the CA signs this service's CSRs only with its token.", [nameof(Token)]));
        }

        if (ControlPlanePollInterval < TimeSpan.Zero || ControlPlanePollInterval > TimeSpan.FromHours(1))
        {
            results.Add(new ValidationResult("MeshOptions.ControlPlanePollInterval must be between 0 (never reload) and 1 hour.", [nameof(ControlPlanePollInterval)]));
        }

        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromMinutes(10))
        {
            results.Add(new ValidationResult($"MeshOptions.ConnectTimeout must be above 0 and at most 10 minutes (it is {ConnectTimeout}).", [nameof(ConnectTimeout)]));
        }

        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout > TimeSpan.FromMinutes(10))
        {
            results.Add(new ValidationResult($"MeshOptions.HandshakeTimeout must be above 0 and at most 10 minutes (it is {HandshakeTimeout}).", [nameof(HandshakeTimeout)]));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var upstreamErrors = new List<string>();
        foreach (MeshUpstream upstream in Upstreams)
        {
            if (upstream is null)
            {
                results.Add(new ValidationResult("MeshOptions.Upstreams holds a null entry; remove it.", [nameof(Upstreams)]));
                continue;
            }

            upstreamErrors.Clear();
            upstream.Validate(upstreamErrors, "MeshOptions.Upstreams[]", requireLocalBindAddress: false);
            foreach (string problem in upstreamErrors)
            {
                results.Add(new ValidationResult(problem, [nameof(Upstreams)]));
            }

            if (upstream.Name is not null && !names.Add(upstream.Name))
            {
                results.Add(new ValidationResult($"MeshOptions.Upstreams: '{upstream.Name}' is listed twice; give each upstream one entry.", [nameof(Upstreams)]));
            }
        }

        return results;
    }

    internal static void Part(List<ValidationResult> results, string? value, string option, string what, string owner = "MeshOptions")
    {
        if (value is null)
        {
            return;
        }

        try
        {
            Identity.ServiceName.CheckPart(value, what, option);
        }
        catch (ArgumentException ex)
        {
            results.Add(new ValidationResult($"{owner}.{option}: {ex.Message.Split(" (Parameter", 2)[0]}", [option]));
        }
    }
}
