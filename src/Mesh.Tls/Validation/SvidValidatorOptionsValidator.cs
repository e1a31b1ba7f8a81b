using Microsoft.Extensions.Options;

namespace Mesh.Tls.Validation;

/// <summary>The rules of <see cref="SvidValidatorOptions"/>; <see cref="SvidValidator"/>'s constructor runs them.</summary>
internal sealed class SvidValidatorOptionsValidator : IValidateOptions<SvidValidatorOptions>
{
    internal static readonly SvidValidatorOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, SvidValidatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.CacheCapacity < 0
            ? ValidateOptionsResult.Fail($"SvidValidatorOptions.CacheCapacity: must be 0 (no cache) or positive (it is {options.CacheCapacity}).")
            : ValidateOptionsResult.Success;
    }
}
