namespace Mesh.Sni.ClientHello;

/// <summary>
/// The handshake message the grammar reads, by offset from its first byte (the 4-byte handshake header included). The
/// grammar is written once over this and compiled twice: over one span (<see cref="ContiguousMessage"/>, the usual hello,
/// where every read is a span read) and over records and segments read in place (<see cref="ScatteredMessage"/>).
/// </summary>
/// <remarks>
/// The grammar checks every length against <see cref="Length"/> before it reads, and reads forward: an implementation may
/// rely on that, and over one span the fixed-size reads do (<see cref="ContiguousMessage"/>); over records a read outside
/// the message gives zeros. A rule takes the message by value: over one span it is two registers, and a scoped value cannot
/// leak into the result.
/// </remarks>
internal interface IHandshakeMessage
{
    /// <summary>The message length, its header included.</summary>
    int Length { get; }

    /// <summary>The byte at <paramref name="offset"/>.</summary>
    byte ReadUInt8(int offset);

    /// <summary>The big-endian uint16 at <paramref name="offset"/>.</summary>
    int ReadUInt16(int offset);

    /// <summary>The big-endian uint32 at <paramref name="offset"/>.</summary>
    uint ReadUInt32(int offset);

    /// <summary>
    /// Where the extension whose 4-byte header is at <paramref name="offset"/> ends, given that header as
    /// <see cref="ReadUInt32"/> read it (the type in its high half, the data length in its low half).
    /// </summary>
    int ExtensionEnd(int offset, uint header);

    /// <summary>
    /// The bytes from <paramref name="offset"/> on that lie contiguous in the input, at most <paramref name="maxLength"/>:
    /// all of them over one span, up to the next record or segment boundary otherwise; empty only outside the message.
    /// </summary>
    ReadOnlySpan<byte> ReadRun(int offset, int maxLength);

    /// <summary>Whether any of the <paramref name="length"/> bytes at <paramref name="offset"/> lies outside printable ASCII (0x20–0x7e).</summary>
    bool ContainsNonPrintableAscii(int offset, int length);
}
