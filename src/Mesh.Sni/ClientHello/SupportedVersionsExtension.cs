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
    /// <typeparam name="TMessage">How the message lies in the input.</typeparam>
    /// <param name="message">The handshake message.</param>
    /// <param name="offset">Where the extension_data starts.</param>
    /// <param name="length">The extension_data length, checked against the message.</param>
    /// <param name="hello">Receives the list's offset and length.</param>
    /// <returns>The broken rule, or none.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // into the extension walk, which then makes no call (see ClientHelloExtensions)
    internal static ClientHelloInvalidReason Parse<TMessage>(scoped TMessage message, int offset, int length, ref ClientHelloInfo hello)
        where TMessage : IHandshakeMessage, allows ref struct
    {
        int versionsLength = length == 0 ? 0 : message.ReadUInt8(offset);
        if (length == 0 || versionsLength != length - 1)
        {
            return ClientHelloInvalidReason.SupportedVersionsLengthMismatch;
        }

        if ((versionsLength & 1) != 0)
        {
            return ClientHelloInvalidReason.SupportedVersionsOddLength;
        }

        hello._versionsOffset = offset + 1;
        hello._versionsLength = versionsLength;
        return ClientHelloInvalidReason.None;
    }
}
