using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// Room for one host name or ALPN protocol name (at most 255 bytes each), used when the ClientHello was spread over records
/// or segments: the host name is then copied here from the gathered message, and an enumerated protocol name that straddles
/// a boundary of the input is copied here as it is read.
/// </summary>
[InlineArray(MaxLength)]
internal struct ServerNameBuffer
{
    internal const int MaxLength = 255;

    private byte _element0;
}
