using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// Room for a record header (RFC 8446 §5.1: type, version, length) cut by a segment boundary, as a plain local: a
/// <c>stackalloc</c> in the reader's step to the next record kept the JIT from compiling it with profile data, on a path every
/// record of a multi-record hello takes.
/// </summary>
[InlineArray(Length)]
internal struct HeaderBuffer
{
    internal const int Length = 5;

    private byte _element0;
}
