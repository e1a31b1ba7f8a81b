using System.Runtime.CompilerServices;

namespace Mesh.Sni.ClientHello;

/// <summary>
/// A handshake message spread over records or segments, as the grammar sees it: a handle to one <see cref="ScatteredReader"/>
/// that lives in the parser's frame. The grammar passes the message by value to each rule; were the reader itself the
/// value, each rule would move a copy of it, and the caller, back from a rule that read far ahead (a 16 KB ALPN list), would
/// seek again from where it stood, across every segment in between. Through the handle every rule moves the one position on.
/// </summary>
/// <remarks>
/// The handle is a pointer to the reader, a local of the frame that made both (<see cref="ClientHelloParser"/>): a stack
/// local never moves, and the garbage collector still reports and updates the spans inside it through that frame. The
/// handle is a ref struct made and used only below that frame, so it cannot outlive the reader.
/// </remarks>
internal readonly unsafe ref struct ScatteredMessage : IHandshakeMessage
{
    private readonly void* _reader;

    /// <summary>A handle to <paramref name="reader"/>, which must outlive it (a local of the caller's frame).</summary>
    internal ScatteredMessage(ref ScatteredReader reader) => _reader = Unsafe.AsPointer(ref reader);

    public int Length
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Reader.Length;
    }

    private ref ScatteredReader Reader
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Unsafe.AsRef<ScatteredReader>(_reader);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte ReadUInt8(int offset) => Reader.ReadUInt8(offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadUInt16(int offset) => Reader.ReadUInt16(offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ReadUInt32(int offset) => Reader.ReadUInt32(offset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ExtensionEnd(int offset, uint header) => offset + 4 + (int)(header & 0xffff);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> ReadRun(int offset, int maxLength) => Reader.ReadRun(offset, maxLength);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ContainsNonPrintableAscii(int offset, int length) => Reader.ContainsNonPrintableAscii(offset, length);
}
