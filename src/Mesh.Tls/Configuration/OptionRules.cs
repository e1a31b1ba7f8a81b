using Mesh.Identity;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.Configuration;

/// <summary>The rules the options validators of this package share (name parts, the result of a list of failures).</summary>
internal static class OptionRules
{
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

    /// <summary>The result of a validator that collected <paramref name="failures"/>.</summary>
    public static ValidateOptionsResult ToResult(List<string> failures) =>
        failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
}
