using System.Text;

namespace Mesh.Sni.Tests.Support;

/// <summary>
/// Builds ClientHello bytes field by field (RFC 8446 §4.1.2), so a test can break exactly one rule. Every vector helper
/// writes its own length prefix; pass raw bytes to write a wrong one.
/// </summary>
internal static class HelloBuilder
{
    public static readonly byte[] Random32 = [.. Enumerable.Range(0, 32).Select(i => (byte)(0xA0 + i))];

    public static byte[] U8(int value) => [(byte)value];

    public static byte[] U16(int value) => [(byte)(value >> 8), (byte)value];

    public static byte[] U24(int value) => [(byte)(value >> 16), (byte)(value >> 8), (byte)value];

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    public static byte[] Vec8(params byte[][] parts)
    {
        byte[] body = Concat(parts);
        return [(byte)body.Length, .. body];
    }

    public static byte[] Vec16(params byte[][] parts)
    {
        byte[] body = Concat(parts);
        return [.. U16(body.Length), .. body];
    }

    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    public static byte[] Extension(int type, byte[] data) => Concat(U16(type), Vec16(data));

    /// <summary>server_name with one host_name entry (RFC 6066 §3).</summary>
    public static byte[] ServerName(byte[] hostName) => Extension(0, Vec16(U8(0), Vec16(hostName)));

    public static byte[] ServerName(string hostName) => ServerName(Ascii(hostName));

    /// <summary>application_layer_protocol_negotiation (RFC 7301 §3.1).</summary>
    public static byte[] Alpn(params string[] protocols) => Extension(16, Vec16([.. protocols.Select(p => Vec8(Ascii(p)))]));

    /// <summary>supported_versions for a ClientHello (RFC 8446 §4.2.1).</summary>
    public static byte[] SupportedVersions(params int[] versions) => Extension(43, Vec8([.. versions.Select(U16)]));

    public static byte[] SupportedGroups => Extension(10, Vec16(U16(0x001d), U16(0x0017)));

    /// <summary>The extensions block: a two-byte length and the extensions.</summary>
    public static byte[] Extensions(params byte[][] extensions) => Vec16(extensions);

    /// <summary>A ClientHello body with sensible defaults; <paramref name="extensionsBlock"/> null leaves the block out (TLS 1.0–1.2).</summary>
    public static byte[] Body(
        byte[]? extensionsBlock,
        byte[]? sessionIdVector = null,
        byte[]? cipherSuitesVector = null,
        byte[]? compressionVector = null,
        int legacyVersion = 0x0303) =>
        Concat(
            U16(legacyVersion),
            Random32,
            sessionIdVector ?? Vec8(new byte[32]),
            cipherSuitesVector ?? Vec16(U16(0x1301), U16(0x1302), U16(0xc02f)),
            compressionVector ?? Vec8(U8(0)),
            extensionsBlock ?? []);

    /// <summary>A typical TLS 1.3 hello body naming <paramref name="hostName"/>.</summary>
    public static byte[] TypicalBody(string hostName = "web.default.dc1.internal.abc.consul") =>
        Body(Extensions(ServerName(hostName), SupportedGroups, Alpn("h2", "http/1.1"), SupportedVersions(0x0304, 0x0303)));

    /// <summary>The handshake message: msg_type, uint24 length, body.</summary>
    public static byte[] Handshake(byte[] body, int type = 1, int? length = null) => Concat(U8(type), U24(length ?? body.Length), body);

    /// <summary>Wraps a handshake message into records of at most <paramref name="fragment"/> bytes.</summary>
    public static byte[] Records(byte[] handshake, int fragment = 16384, int contentType = 22, int version = 0x0301)
    {
        var records = new List<byte>();
        for (int offset = 0; offset < handshake.Length; offset += fragment)
        {
            int n = Math.Min(fragment, handshake.Length - offset);
            records.AddRange(Record(handshake.AsSpan(offset, n).ToArray(), contentType, version));
        }

        return [.. records];
    }

    /// <summary>One record with the given fragment (its length written as given, or the fragment's).</summary>
    public static byte[] Record(byte[] fragment, int contentType = 22, int version = 0x0301, int? length = null) =>
        Concat(U8(contentType), U16(version), U16(length ?? fragment.Length), fragment);

    public static byte[] Hello(byte[] body) => Records(Handshake(body));
}
