using Mesh.Endpoints;
using Mesh.Splicing;
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

    /// <summary>
    /// Adds the failures of the <see cref="SpliceOptions"/> held by other options at <paramref name="path"/> (such as
    /// <c>SidecarOptions.Splice</c>) to <paramref name="failures"/>, each message naming the option by that path.
    /// </summary>
    /// <param name="failures">The outer validator's failures.</param>
    /// <param name="options">The nested options; null is a failure (leave the default in place instead).</param>
    /// <param name="path">Where the nested options sit.</param>
    public static void AddNested(List<string> failures, SpliceOptions? options, string path) =>
        AddNested(failures, options, path, static p => new SpliceOptionsValidator(p));

    /// <summary>
    /// Adds the failures of the <see cref="OutlierDetectionOptions"/> held by other options at <paramref name="path"/> (such as
    /// <c>SidecarOptions.OutlierDetection</c>) to <paramref name="failures"/>, each message naming the option by that path.
    /// </summary>
    /// <param name="failures">The outer validator's failures.</param>
    /// <param name="options">The nested options; null is a failure (leave the default in place instead).</param>
    /// <param name="path">Where the nested options sit.</param>
    public static void AddNested(List<string> failures, OutlierDetectionOptions? options, string path) =>
        AddNested(failures, options, path, static p => new OutlierDetectionOptionsValidator(p));

    private static void AddNested<TOptions>(List<string> failures, TOptions? options, string path, Func<string, IValidateOptions<TOptions>> validatorAt)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(failures);
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (options is null)
        {
            failures.Add($"{path} is required; leave it at its default rather than null.");
            return;
        }

        // The validator is built for this path, so that its messages name the option where the user set it.
        ValidateOptionsResult result = validatorAt(path).Validate(Options.DefaultName, options);
        if (result.Failed)
        {
            failures.AddRange(result.Failures ?? []);
        }
    }

    private static void Throw(ValidateOptionsResult result, Type type) =>
        throw new OptionsValidationException(Options.DefaultName, type, result.Failures ?? []);
}
