using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// Room for one host name (RFC 6066 caps it at 255 bytes), used only when a name or ALPN protocol straddles two TLS records
/// or two input segments: the message itself is never copied.
/// </summary>
[InlineArray(MaxLength)]
internal struct ServerNameBuffer
{
    internal const int MaxLength = 255;

    private byte _element0;
}
