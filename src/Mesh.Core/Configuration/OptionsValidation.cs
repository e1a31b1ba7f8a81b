using Microsoft.Extensions.Options;

namespace Mesh.Configuration;

/// <summary>
/// The two steps every Mesh options validator shares: running a validator for a component built directly with its options, so
/// that it fails the way a host's <c>ValidateOnStart</c> does (an <see cref="OptionsValidationException"/> carrying the same
/// messages), and folding the failures of options held by other options (<c>SidecarOptions.Splice</c>) into the outer result.
/// </summary>
public static class OptionsValidation
{
    /// <summary>Throws when <paramref name="validator"/> finds a rule broken; allocates nothing when the options are valid.</summary>
    /// <typeparam name="TOptions">The options type.</typeparam>
    /// <param name="options">The options a component was given.</param>
    /// <param name="validator">The options type's validator, the one a host registers for <c>ValidateOnStart</c>.</param>
    /// <exception cref="OptionsValidationException">An option is invalid; each failure names the option.</exception>
    public static void ThrowIfInvalid<TOptions>(this TOptions options, IValidateOptions<TOptions> validator)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(validator);
        ValidateOptionsResult result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            Throw(result, typeof(TOptions));
        }
    }

    /// <summary>Adds the failures of <paramref name="options"/>, held by other options at <paramref name="path"/>, to <paramref name="failures"/>.</summary>
    /// <typeparam name="TOptions">The nested options type.</typeparam>
    /// <param name="failures">The outer validator's failures.</param>
    /// <param name="options">The nested options; null is a failure (leave the default in place instead).</param>
    /// <param name="validator">The nested options' validator, built with <paramref name="path"/> so its messages name it.</param>
    /// <param name="path">Where the nested options sit, such as <c>SidecarOptions.Splice</c>.</param>
    public static void AddNested<TOptions>(List<string> failures, TOptions? options, IValidateOptions<TOptions> validator, string path)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentNullException.ThrowIfNull(validator);
        if (options is null)
        {
            failures.Add($"{path} is required; leave it at its default rather than null.");
            return;
        }

        ValidateOptionsResult result = validator.Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            failures.AddRange(result.Failures ?? []);
        }
    }

    private static void Throw(ValidateOptionsResult result, Type type) =>
        throw new OptionsValidationException(Options.DefaultName, type, result.Failures ?? []);
}
