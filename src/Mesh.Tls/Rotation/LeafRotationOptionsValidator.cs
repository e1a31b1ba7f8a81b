using Mesh.Tls.Configuration;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.Rotation;

/// <summary>The rules of <see cref="LeafRotationOptions"/>; <see cref="LeafRotationManager"/>'s constructor runs them.</summary>
internal sealed class LeafRotationOptionsValidator : IValidateOptions<LeafRotationOptions>
{
    internal static readonly LeafRotationOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, LeafRotationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        // A zero delay or interval would let a failing or misbehaving CA make the manager retry or renew in a tight loop.
        if (options.RetryInitialDelay <= TimeSpan.Zero)
        {
            failures.Add($"LeafRotationOptions.RetryInitialDelay: must be positive (it is {options.RetryInitialDelay}).");
        }

        if (options.RetryMaximumDelay < options.RetryInitialDelay)
        {
            failures.Add($"LeafRotationOptions.RetryMaximumDelay: must be at least RetryInitialDelay (they are {options.RetryMaximumDelay} and {options.RetryInitialDelay}).");
        }

        if (options.MinimumRenewalInterval <= TimeSpan.Zero)
        {
            failures.Add($"LeafRotationOptions.MinimumRenewalInterval: must be positive (it is {options.MinimumRenewalInterval}).");
        }

        return OptionRules.ToResult(failures);
    }
}
