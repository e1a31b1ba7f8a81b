using System.Diagnostics.CodeAnalysis;

namespace Mesh.Sni.ClientHello;

/// <summary>Enumerates the ALPN protocol names of a ClientHello (RFC 7301 §3.1) without allocating.</summary>
public ref struct AlpnProtocolEnumerator
{
    private HandshakeReader _reader;
    private int _remaining;
    private ReadOnlySpan<byte> _current;
    private ServerNameBuffer _copy;
    private bool _copied;
    private int _copiedLength;

    internal AlpnProtocolEnumerator(HandshakeReader reader, int listLength)
    {
        _reader = reader;
        _remaining = listLength;
        _current = default;
        _copy = default;
        _copied = false;
        _copiedLength = 0;
    }

    /// <summary>The current protocol name, for example <c>h2</c>.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> Current => _copied ? _copy[.._copiedLength] : _current;

    /// <summary>Returns this enumerator, so it works with <c>foreach</c>.</summary>
    public readonly AlpnProtocolEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next protocol name.</summary>
    public bool MoveNext()
    {
        if (_remaining <= 0)
        {
            return false;
        }

        // The parser checked the list: every ProtocolName<1..2^8-1> fits.
        int length = _reader.ReadUInt8();
        _copied = !_reader.TryReadContiguous(length, out _current);
        if (_copied)
        {
            // A name straddling two records or segments is copied: at most 255 bytes, never the message.
            _reader.CopyTo(((Span<byte>)_copy)[..length]);
            _copiedLength = length;
        }

        _remaining -= 1 + length;
        return true;
    }
}
