using Microsoft.Extensions.Options;

namespace Mesh.Splicing;

/// <summary>
/// The rules of <see cref="SpliceOptions"/>, run by the components that take the options directly (<see cref="TcpSplicer"/>)
/// and, through <see cref="Configuration.OptionsValidation.AddNested(List{string}, SpliceOptions?, string)"/>, by the validators of
/// options that hold them (the gateway's, the sidecar's). Each message names the option by its path.
/// </summary>
internal sealed class SpliceOptionsValidator : IValidateOptions<SpliceOptions>
{
    internal static readonly SpliceOptionsValidator Default = new();

    private readonly string _path;

    /// <summary>Creates a validator whose messages name the options <c>SpliceOptions</c>.</summary>
    public SpliceOptionsValidator()
        : this(nameof(SpliceOptions))
    {
    }

    /// <summary>Creates a validator for options held by other options, such as <c>MeshGatewayOptions.Splice</c>.</summary>
    /// <param name="optionPath">The path its messages start with.</param>
    public SpliceOptionsValidator(string optionPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(optionPath);
        _path = optionPath;
    }

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SpliceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string>? failures = null;
        if (options.MaxBufferedBytesPerDirection is < 1024 or > 1024 * 1024)
        {
            Fail(ref failures, $"{_path}.MaxBufferedBytesPerDirection: must be between 1024 (1 KiB) and 1048576 (1 MiB) bytes (it is {options.MaxBufferedBytesPerDirection}).");
        }

        if (options.IdleTimeout <= TimeSpan.Zero && options.IdleTimeout != Timeout.InfiniteTimeSpan)
        {
            Fail(ref failures, $"{_path}.IdleTimeout: must be positive, or Timeout.InfiniteTimeSpan for none (it is {options.IdleTimeout}).");
        }

        if (options.DrainTimeout is { } drain && drain <= TimeSpan.Zero && drain != Timeout.InfiniteTimeSpan)
        {
            Fail(ref failures, $"{_path}.DrainTimeout: must be positive, Timeout.InfiniteTimeSpan for none, or null for IdleTimeout (it is {drain}).");
        }

        if (!Enum.IsDefined(options.TruncatedTlsEnd))
        {
            Fail(ref failures, $"{_path}.TruncatedTlsEnd: {options.TruncatedTlsEnd} is not a TruncatedTlsEndPolicy value.");
        }

        if (options.TimeProvider is null)
        {
            Fail(ref failures, $"{_path}.TimeProvider is required: TimeProvider.System, or a test clock.");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Fail(ref List<string>? failures, string message) => (failures ??= []).Add(message);
}
