using Mesh.Tls.Configuration;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.Authority;

/// <summary>
/// The rules of <see cref="MeshCaOptions"/>, Consul's CA constraints (consul-semantics §4) among them;
/// <see cref="MeshCertificateAuthority"/>'s constructor runs them.
/// </summary>
internal sealed class MeshCaOptionsValidator : IValidateOptions<MeshCaOptions>
{
    internal static readonly MeshCaOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, MeshCaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!options.TrustDomain.IsValid)
        {
            failures.Add("MeshCaOptions.TrustDomain is required: the mesh's trust domain, such as \"<cluster-uuid>.consul\".");
        }

        if (options.Datacenter is null)
        {
            failures.Add("MeshCaOptions.Datacenter is required: the datacenter this CA signs for, such as \"dc1\".");
        }

        OptionRules.AddIfInvalidNamePart(failures, options.Datacenter, "MeshCaOptions.Datacenter", "datacenter");
        for (int i = 0; i < options.AdditionalDatacenters.Count; i++)
        {
            OptionRules.AddIfInvalidNamePart(failures, options.AdditionalDatacenters[i] ?? string.Empty, $"MeshCaOptions.AdditionalDatacenters[{i}]", "datacenter");
        }

        if (!Enum.IsDefined(options.KeyType))
        {
            failures.Add($"MeshCaOptions.KeyType: {options.KeyType} is not a CaKeyType value.");
        }

        if (options.MinimumLeafTtl <= TimeSpan.Zero || options.MaximumLeafTtl < options.MinimumLeafTtl)
        {
            failures.Add($"MeshCaOptions.MinimumLeafTtl: must be positive and at most MaximumLeafTtl (they are {options.MinimumLeafTtl} and {options.MaximumLeafTtl}).");
        }
        else if (options.LeafTtl < options.MinimumLeafTtl || options.LeafTtl > options.MaximumLeafTtl)
        {
            failures.Add($"MeshCaOptions.LeafTtl: {options.LeafTtl} is outside MinimumLeafTtl..MaximumLeafTtl ({options.MinimumLeafTtl}..{options.MaximumLeafTtl}).");
        }

        if (options.UseIntermediate && options.IntermediateTtl < 3 * options.LeafTtl)
        {
            failures.Add($"MeshCaOptions.IntermediateTtl: {options.IntermediateTtl} must be at least 3 × LeafTtl ({options.LeafTtl}), as Consul requires.");
        }

        if (options.RootTtl < (options.UseIntermediate ? options.IntermediateTtl : options.LeafTtl))
        {
            failures.Add(options.UseIntermediate
                ? $"MeshCaOptions.RootTtl: {options.RootTtl} must be at least IntermediateTtl ({options.IntermediateTtl})."
                : $"MeshCaOptions.RootTtl: {options.RootTtl} must be at least LeafTtl ({options.LeafTtl}).");
        }

        if (options.CrossSignedTtl <= TimeSpan.Zero)
        {
            failures.Add($"MeshCaOptions.CrossSignedTtl: must be positive (it is {options.CrossSignedTtl}).");
        }

        if ((options.RootCertificatePem is null) != (options.RootPrivateKeyPem is null))
        {
            failures.Add("MeshCaOptions.RootCertificatePem and RootPrivateKeyPem go together: set both (an operator-supplied root) or neither.");
        }

        if (options.KeyDirectory is { Length: 0 })
        {
            failures.Add("MeshCaOptions.KeyDirectory is empty: give a directory path, or null to keep the keys in memory only.");
        }

        if (options.SigningRateLimit < 0 || !double.IsFinite(options.SigningRateLimit))
        {
            failures.Add($"MeshCaOptions.SigningRateLimit: must be 0 (off) or a positive number of signings per second (it is {options.SigningRateLimit}).");
        }

        return OptionRules.ToResult(failures);
    }
}
