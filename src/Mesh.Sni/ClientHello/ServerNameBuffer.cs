using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// Room for one host name or ALPN protocol name (at most 255 bytes each) that straddles a record or segment boundary of the
/// input: the host name is copied here by the parser, a protocol name by the enumerator as it is read.
/// </summary>
[InlineArray(MaxLength)]
internal struct ServerNameBuffer
{
    internal const int MaxLength = 255;

    private byte _element0;
}
