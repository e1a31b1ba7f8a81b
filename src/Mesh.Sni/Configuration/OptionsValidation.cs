using Microsoft.Extensions.Options;

namespace Mesh.Sni.Configuration;

/// <summary>
/// Runs an options validator for a component built directly with its options, so that it fails the way a host's
/// <c>ValidateOnStart</c> does: an <see cref="OptionsValidationException"/> carrying the same messages.
/// </summary>
internal static class OptionsValidation
{
    /// <summary>Throws when <paramref name="validator"/> finds a rule broken.</summary>
    /// <exception cref="OptionsValidationException">An option is invalid; each failure names the option.</exception>
    public static void ThrowIfInvalid<TOptions>(this TOptions options, IValidateOptions<TOptions> validator)
        where TOptions : class
    {
        ValidateOptionsResult result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(TOptions), result.Failures ?? []);
        }
    }
}
