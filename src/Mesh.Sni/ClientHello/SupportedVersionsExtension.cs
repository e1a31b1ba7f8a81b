using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>The supported_versions extension (RFC 8446 §4.2.1).</summary>
[SkipLocalsInit]
internal static class SupportedVersionsExtension
{
    /// <summary>Checks a supported_versions extension and remembers where its list is.</summary>
    /// <remarks>
    /// RFC 8446 §4.2.1 (an empty list is left for the handshake to refuse, as OpenSSL does):
    /// <code>
    /// struct {
    ///     select (Handshake.msg_type) {
    ///         case client_hello:
    ///              ProtocolVersion versions&lt;2..254&gt;;
    ///         ...
    ///     };
    /// } SupportedVersions;
    /// </code>
    /// </remarks>
    /// <param name="data">The extension_data, exactly.</param>
    /// <param name="dataOffset">The handshake-stream offset of <paramref name="data"/>.</param>
    /// <param name="hello">Receives the list's offset and length.</param>
    /// <returns>The broken rule, or none.</returns>
    [MethodImpl(MethodImplOptions.NoInlining)] // once per hello: inlined, it would crowd the extension walk out of its registers
    internal static ClientHelloInvalidReason Parse(scoped ReadOnlySpan<byte> data, int dataOffset, ref ClientHelloInfo hello)
    {
        if (data.IsEmpty || data[0] != data.Length - 1)
        {
            return ClientHelloInvalidReason.SupportedVersionsLengthMismatch;
        }

        if ((data[0] & 1) != 0)
        {
            return ClientHelloInvalidReason.SupportedVersionsOddLength;
        }

        hello._versionsOffset = dataOffset + 1;
        hello._versionsLength = data[0];
        return ClientHelloInvalidReason.None;
    }
}
