using Mesh.Configuration;
using Mesh.Tls.Configuration;
using Mesh.Tls.Outbound;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.Sidecar;

/// <summary>The rules of <see cref="SidecarOptions"/>, its upstreams included; <see cref="MeshSidecar"/>'s constructor runs them.</summary>
internal sealed class SidecarOptionsValidator : IValidateOptions<SidecarOptions>
{
    internal static readonly SidecarOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, SidecarOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        Require(failures, options.Service.IsValid, nameof(SidecarOptions.Service), "is required: name the service and datacenter the sidecar fronts");
        Require(failures, options.TrustDomain.IsValid, nameof(SidecarOptions.TrustDomain), "is required: name the mesh's trust domain");
        Require(failures, options.PublicListener is not null, nameof(SidecarOptions.PublicListener), "is required: give the address of the public mTLS listener");
        Require(failures, options.LocalApplication is not null, nameof(SidecarOptions.LocalApplication), "is required: give the address the local application listens on");
        Positive(failures, options.HandshakeTimeout, nameof(SidecarOptions.HandshakeTimeout));
        Positive(failures, options.UpstreamConnectTimeout, nameof(SidecarOptions.UpstreamConnectTimeout));
        Positive(failures, options.LocalApplicationConnectTimeout, nameof(SidecarOptions.LocalApplicationConnectTimeout));
        Require(failures, options.LocalApplicationCheckInterval >= TimeSpan.Zero, nameof(SidecarOptions.LocalApplicationCheckInterval),
            $"must be zero (no check) or positive (it is {options.LocalApplicationCheckInterval})");
        Positive(failures, options.LocalApplicationCheckTimeout, nameof(SidecarOptions.LocalApplicationCheckTimeout));
        AddUpstreamFailures(failures, options.Upstreams);
        OptionsValidation.AddNested(failures, options.Splice, $"{nameof(SidecarOptions)}.{nameof(SidecarOptions.Splice)}");
        OptionsValidation.AddNested(failures, options.OutlierDetection, $"{nameof(SidecarOptions)}.{nameof(SidecarOptions.OutlierDetection)}");
        return OptionRules.ToResult(failures);
    }

    /// <summary>The rules of <see cref="MeshUpstream"/> for a sidecar: each needs a local bind address.</summary>
    internal static void AddUpstreamFailures(List<string> failures, IEnumerable<MeshUpstream> upstreams)
    {
        foreach (MeshUpstream? upstream in upstreams)
        {
            if (upstream is null)
            {
                failures.Add("SidecarOptions.Upstreams holds a null entry: give each upstream its destination, datacenter and local address.");
                continue;
            }

            upstream.Validate(failures, "SidecarOptions.Upstreams[]", requireLocalBindAddress: true);
        }
    }

    private static void Positive(List<string> failures, TimeSpan value, string option) =>
        Require(failures, value > TimeSpan.Zero, option, $"must be positive (it is {value})");

    private static void Require(List<string> failures, bool condition, string option, string what)
    {
        if (!condition)
        {
            failures.Add($"SidecarOptions.{option} {what}.");
        }
    }
}
