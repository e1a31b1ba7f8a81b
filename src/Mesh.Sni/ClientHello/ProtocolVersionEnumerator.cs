namespace Mesh.Sni.ClientHello;

/// <summary>Enumerates the versions of a supported_versions extension (RFC 8446 §4.2.1) without allocating.</summary>
public ref struct ProtocolVersionEnumerator
{
    private HandshakeReader _reader;
    private int _remaining;

    internal ProtocolVersionEnumerator(HandshakeReader reader, int count)
    {
        _reader = reader;
        _remaining = count;
        Current = 0;
    }

    /// <summary>The current version, for example 0x0304 for TLS 1.3.</summary>
    public ushort Current { get; private set; }

    /// <summary>Returns this enumerator, so it works with <c>foreach</c>.</summary>
    public readonly ProtocolVersionEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next version.</summary>
    public bool MoveNext()
    {
        if (_remaining <= 0)
        {
            return false;
        }

        Current = (ushort)_reader.ReadUInt16();
        _remaining--;
        return true;
    }
}
