using System.Buffers;

namespace Mesh.Sni.Gateway;

/// <summary>
/// The pooled buffer a connection's ClientHello is read into, on both engines: it starts at a size that holds a typical hello
/// in one read and grows as the record headers ask, up to a bound.
/// </summary>
internal static class GatewayHelloBuffer
{
    /// <summary>A typical ClientHello is 250 to 2,000 bytes (a post-quantum key share takes it past 1,200): one read holds it.</summary>
    public const int InitialSize = 4096;

    public static byte[] Rent() => ArrayPool<byte>.Shared.Rent(InitialSize);

    public static void Return(byte[] buffer) => ArrayPool<byte>.Shared.Return(buffer);

    /// <summary>
    /// Replaces a full <paramref name="buffer"/> with a larger one holding the same bytes; false when it is already at its bound
    /// (the hello is too large).
    /// </summary>
    public static bool TryGrow(ref byte[] buffer, int maxClientHelloSize)
    {
        // A hello split into tiny records carries 5 header bytes per record on top of the handshake: allow for that, but bound it.
        int maxBytes = (maxClientHelloSize * 2) + 1024;
        if (buffer.Length >= maxBytes)
        {
            return false;
        }

        byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 4, maxBytes));
        buffer.CopyTo(larger, 0);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = larger;
        return true;
    }
}
