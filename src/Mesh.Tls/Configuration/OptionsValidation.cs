using Mesh.Identity;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.Configuration;

/// <summary>
/// Runs an options validator for a component built directly with its options, so that it fails the way a host's
/// <c>ValidateOnStart</c> does (an <see cref="OptionsValidationException"/> carrying the same messages), and holds the rules
/// the validators of this package share.
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

    /// <summary>Adds a failure when <paramref name="value"/> is set but cannot be a service, namespace, partition or datacenter name.</summary>
    /// <param name="failures">Where the failure goes.</param>
    /// <param name="value">The name; null passes (the option's default applies).</param>
    /// <param name="path">The option's path, such as <c>MeshOptions.Namespace</c>.</param>
    /// <param name="what">What the name is, for the message (<c>datacenter</c>).</param>
    public static void AddIfInvalidNamePart(List<string> failures, string? value, string path, string what)
    {
        if (value is null || ServiceName.IsValidPart(value))
        {
            return;
        }

        try
        {
            ServiceName.CheckPart(value, what, path);
        }
        catch (ArgumentException ex)
        {
            // CheckPart's message says why the name is unusable; the path in front says where it was set.
            failures.Add($"{path}: {ex.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    /// <summary>Adds the failures of options held by other options, such as <c>SidecarOptions.Splice</c>.</summary>
    public static void AddNested<TOptions>(List<string> failures, TOptions? options, IValidateOptions<TOptions> validator, string path)
        where TOptions : class
    {
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

    /// <summary>The result of a validator that collected <paramref name="failures"/>.</summary>
    public static ValidateOptionsResult ToResult(List<string> failures) =>
        failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
}
