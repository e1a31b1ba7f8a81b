using Microsoft.Extensions.Options;

namespace Mesh.Tls.InProcess;

/// <summary>Validates <see cref="MeshOptions"/> at start with source-generated code (no reflection, AOT-compatible).</summary>
[OptionsValidator]
internal sealed partial class MeshOptionsValidator : IValidateOptions<MeshOptions>
{
}
