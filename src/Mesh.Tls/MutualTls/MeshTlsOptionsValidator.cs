using System.Net.Security;
using Mesh.Tls.Configuration;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.MutualTls;

/// <summary>The rules of <see cref="MeshTlsOptions"/>; <see cref="MeshTlsFactory"/>'s constructor runs them.</summary>
internal sealed class MeshTlsOptionsValidator : IValidateOptions<MeshTlsOptions>
{
    internal static readonly MeshTlsOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, MeshTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        for (int i = 0; i < options.ApplicationProtocols.Count; i++)
        {
            SslApplicationProtocol protocol = options.ApplicationProtocols[i];
            // RFC 7301 §3.1: a protocol name is 1 to 255 bytes; default(SslApplicationProtocol) holds none.
            if (protocol.Protocol.IsEmpty)
            {
                failures.Add($"MeshTlsOptions.ApplicationProtocols[{i}] is empty: name a protocol, such as SslApplicationProtocol.Http2.");
            }
        }

        return OptionRules.ToResult(failures);
    }
}
