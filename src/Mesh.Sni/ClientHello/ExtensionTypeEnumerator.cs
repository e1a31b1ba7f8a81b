namespace Mesh.Sni.ClientHello;

/// <summary>Enumerates the extension types of a ClientHello in the order sent, without allocating.</summary>
public ref struct ExtensionTypeEnumerator
{
    private HandshakeReader _reader;
    private int _remaining;

    internal ExtensionTypeEnumerator(HandshakeReader reader, int count)
    {
        _reader = reader;
        _remaining = count;
        Current = 0;
    }

    /// <summary>The current extension type, for example 0 for server_name.</summary>
    public ushort Current { get; private set; }

    /// <summary>Returns this enumerator, so it works with <c>foreach</c>.</summary>
    public readonly ExtensionTypeEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next extension.</summary>
    public bool MoveNext()
    {
        if (_remaining <= 0)
        {
            return false;
        }

        Current = (ushort)_reader.ReadUInt16();
        _reader.Skip(_reader.ReadUInt16());
        _remaining--;
        return true;
    }
}
