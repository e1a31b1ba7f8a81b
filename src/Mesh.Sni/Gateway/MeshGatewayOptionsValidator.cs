using Mesh.Configuration;
using Mesh.Identity;
using Microsoft.Extensions.Options;

namespace Mesh.Sni.Gateway;

/// <summary>The rules of <see cref="MeshGatewayOptions"/>; <see cref="MeshGateway"/>'s constructor runs them.</summary>
internal sealed class MeshGatewayOptionsValidator : IValidateOptions<MeshGatewayOptions>
{
    internal static readonly MeshGatewayOptionsValidator Instance = new();

    // Clients pad a ClientHello of 256-511 bytes to 512 (RFC 7685's padding extension, as BoringSSL does), so a smaller cap
    // would refuse ordinary clients.
    private const int MinClientHelloSize = 512;

    public ValidateOptionsResult Validate(string? name, MeshGatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!ServiceName.IsValidPart(options.Datacenter))
        {
            failures.Add($"MeshGatewayOptions.Datacenter: '{options.Datacenter}' is not a usable datacenter name: it must be 1-63 letters, digits, '-' or '_'.");
        }

        if (!options.TrustDomain.IsValid)
        {
            failures.Add("MeshGatewayOptions.TrustDomain is required: the gateway routes names ending in it.");
        }

        if (options.ListenEndPoints.Count == 0)
        {
            failures.Add("MeshGatewayOptions.ListenEndPoints is empty: give the gateway at least one address to accept on.");
        }
        else if (options.ListenEndPoints.Contains(null!))
        {
            failures.Add("MeshGatewayOptions.ListenEndPoints holds a null entry: give each an address and port (port 0 picks a free one).");
        }

        Positive(failures, options.ClientHelloTimeout, nameof(MeshGatewayOptions.ClientHelloTimeout));
        Positive(failures, options.ConnectTimeout, nameof(MeshGatewayOptions.ConnectTimeout));
        if (options.MaxConnections <= 0)
        {
            failures.Add($"MeshGatewayOptions.MaxConnections: must be positive (it is {options.MaxConnections}).");
        }

        if (options.MaxConcurrentClientHelloReads <= 0)
        {
            failures.Add($"MeshGatewayOptions.MaxConcurrentClientHelloReads: must be positive (it is {options.MaxConcurrentClientHelloReads}).");
        }

        if (options.MaxClientHelloSize < MinClientHelloSize)
        {
            failures.Add($"MeshGatewayOptions.MaxClientHelloSize: must be at least {MinClientHelloSize} bytes (it is {options.MaxClientHelloSize}).");
        }

        OptionsValidation.AddNested(failures, options.Splice, $"{nameof(MeshGatewayOptions)}.{nameof(MeshGatewayOptions.Splice)}");
        OptionsValidation.AddNested(failures, options.OutlierDetection, $"{nameof(MeshGatewayOptions)}.{nameof(MeshGatewayOptions.OutlierDetection)}");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Positive(List<string> failures, TimeSpan value, string option)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"MeshGatewayOptions.{option}: must be positive (it is {value}).");
        }
    }
}
