using System.Buffers;
using System.Globalization;
using System.Text;
using Mesh.Sni.ClientHello;

namespace Mesh.Sni.Tests.Support;

/// <summary>Everything a parse exposes, as text, to compare two parses of the same bytes.</summary>
internal static class HelloSummary
{
    public static string Of(byte[] data) => Describe(ClientHelloParser.Parse(data, out ClientHelloInfo hello), ref hello);

    public static string Of(ReadOnlySequence<byte> data) => Describe(ClientHelloParser.Parse(data, out ClientHelloInfo hello), ref hello);

    private static string Describe(ClientHelloParseStatus status, ref ClientHelloInfo hello)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{status} {hello.InvalidReason} consumed={hello.BytesConsumed} missing={hello.BytesMissing}");
        if (status != ClientHelloParseStatus.Complete)
        {
            return text.ToString();
        }

        text.Append(CultureInfo.InvariantCulture,
            $" v={hello.LegacyVersion:x4} cs={hello.CipherSuiteCount} records={hello.RecordCount} hs={hello.HandshakeLength} ech={hello.HasEncryptedClientHello} sni={hello.GetServerNameString()} alpn=");
        foreach (ReadOnlySpan<byte> protocol in hello.AlpnProtocols)
        {
            text.Append(Encoding.ASCII.GetString(protocol)).Append(',');
        }

        text.Append(" versions=");
        foreach (ushort version in hello.SupportedVersions)
        {
            text.Append(CultureInfo.InvariantCulture, $"{version:x4},");
        }

        text.Append(" extensions=");
        foreach (ushort type in hello.ExtensionTypes)
        {
            text.Append(CultureInfo.InvariantCulture, $"{type},");
        }

        return text.ToString();
    }
}
