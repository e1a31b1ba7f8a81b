using Microsoft.Extensions.Options;

namespace Mesh.Endpoints;

/// <summary>
/// The rules of <see cref="OutlierDetectionOptions"/>, run by <see cref="EndpointOutlierDetector"/> and, through
/// <see cref="Configuration.OptionsValidation.AddNested(List{string}, OutlierDetectionOptions?, string)"/>, by the validators of
/// options that hold them (the gateway's, the sidecar's). Each message names the option by its path.
/// </summary>
internal sealed class OutlierDetectionOptionsValidator : IValidateOptions<OutlierDetectionOptions>
{
    internal static readonly OutlierDetectionOptionsValidator Default = new();

    private readonly string _path;

    /// <summary>Creates a validator whose messages name the options <c>OutlierDetectionOptions</c>.</summary>
    public OutlierDetectionOptionsValidator()
        : this(nameof(OutlierDetectionOptions))
    {
    }

    /// <summary>Creates a validator for options held by other options, such as <c>MeshGatewayOptions.OutlierDetection</c>.</summary>
    /// <param name="optionPath">The path its messages start with.</param>
    public OutlierDetectionOptionsValidator(string optionPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(optionPath);
        _path = optionPath;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, OutlierDetectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string>? failures = null;
        if (options.ConsecutiveFailures < 1)
        {
            (failures ??= []).Add($"{_path}.ConsecutiveFailures: must be at least 1 (it is {options.ConsecutiveFailures}).");
        }

        if (options.BaseEjectionTime <= TimeSpan.Zero || options.MaxEjectionTime < options.BaseEjectionTime)
        {
            (failures ??= []).Add(
                $"{_path}.BaseEjectionTime: must be positive and MaxEjectionTime at least as long (they are {options.BaseEjectionTime} and {options.MaxEjectionTime}).");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
