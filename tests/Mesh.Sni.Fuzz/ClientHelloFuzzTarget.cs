using System.Buffers;
using System.Globalization;
using System.Text;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Routing;

namespace Mesh.Sni.Fuzz;

/// <summary>
/// Parses one input every way a gateway can receive it and fails loudly when the answers differ or an invariant breaks.
/// </summary>
internal static class ClientHelloFuzzTarget
{
    private static readonly SniRouteTable<int> Routes = new(
    [
        new("web.default.dc1.internal.abc.consul", 1),
        new("*.dc2.internal.abc.consul", 2),
        new("*.consul", 3),
        new("example.com", 4),
    ]);

    public static void Run(byte[] data)
    {
        // The route table reads whatever bytes a hello carried: any bytes, any number of dots, must never throw.
        ReadOnlySpan<byte> raw = data.AsSpan(0, Math.Min(data.Length, 300));
        SniRouteMatch rawMatch = Routes.Lookup(raw, out int rawValue);
        if ((rawMatch == SniRouteMatch.None) != (rawValue == 0))
        {
            throw new InvalidOperationException($"Lookup gave {rawMatch} with value {rawValue}.");
        }

        string whole = Describe(data, out ClientHelloParseStatus status, out int consumed);

        foreach (int size in (ReadOnlySpan<int>)[1, 3, 7, 64, 512])
        {
            Expect(whole, Describe(Segment(data, size)), $"{size}-byte segments");
        }

        if (data.Length > 1)
        {
            int split = 1 + (data[^1] % (data.Length - 1));
            Expect(whole, Describe(Segment(data, [split, data.Length - split])), $"split at {split}");
        }

        if (status == ClientHelloParseStatus.Complete)
        {
            if (consumed <= 0 || consumed > data.Length)
            {
                throw new InvalidOperationException($"Complete with {consumed} bytes consumed of {data.Length}.");
            }

            // Every strict prefix of a complete hello is a valid beginning: the headers, the middle and the last byte.
            foreach (int length in (ReadOnlySpan<int>)[0, 1, 2, 4, 5, 6, 7, 8, 9, 10, consumed / 2, consumed - 1])
            {
                if (length >= consumed)
                {
                    continue;
                }

                ClientHelloParseStatus prefix = ClientHelloParser.Parse(data.AsSpan(0, length), out ClientHelloInfo shorter);
                if (prefix != ClientHelloParseStatus.NeedMoreData || shorter.BytesMissing < 1 || shorter.BytesMissing > consumed - length)
                {
                    throw new InvalidOperationException($"The first {length} bytes of a complete hello gave {prefix} {shorter.InvalidReason}, {shorter.BytesMissing} missing.");
                }
            }
        }
    }

    private static string Describe(byte[] data, out ClientHelloParseStatus status, out int consumed)
    {
        status = ClientHelloParser.Parse(data, out ClientHelloInfo hello);
        consumed = hello.BytesConsumed;
        return Describe(ref hello);
    }

    private static string Describe(ReadOnlySequence<byte> data)
    {
        ClientHelloParser.Parse(data, out ClientHelloInfo hello);
        return Describe(ref hello);
    }

    private static string Describe(ref ClientHelloInfo hello)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{hello.Status} {hello.InvalidReason} consumed={hello.BytesConsumed} missing={hello.BytesMissing} ");
        if (hello.Status != ClientHelloParseStatus.Complete)
        {
            return text.ToString();
        }

        text.Append(CultureInfo.InvariantCulture, $"v={hello.LegacyVersion:x4} cs={hello.CipherSuiteCount} records={hello.RecordCount} ech={hello.HasEncryptedClientHello} ");
        text.Append(CultureInfo.InvariantCulture, $"sni={hello.GetServerNameString()} route={Routes.Lookup(hello.ServerName, out int value)}:{value} alpn=");
        int alpn = 0;
        foreach (ReadOnlySpan<byte> protocol in hello.AlpnProtocols)
        {
            text.Append(Convert.ToHexString(protocol)).Append(',');
            alpn++;
        }

        text.Append(" versions=");
        foreach (ushort version in hello.SupportedVersions)
        {
            text.Append(version).Append(',');
        }

        text.Append(" extensions=");
        int extensions = 0;
        foreach (ushort type in hello.ExtensionTypes)
        {
            text.Append(type).Append(',');
            extensions++;
        }

        if (alpn != hello.AlpnProtocolCount || extensions != hello.ExtensionCount)
        {
            throw new InvalidOperationException("Enumerated counts differ from the parsed counts.");
        }

        if (hello.HasServerName && hello.ServerName.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7e) >= 0)
        {
            throw new InvalidOperationException("A server name outside printable ASCII was accepted.");
        }

        return text.ToString();
    }

    private static void Expect(string expected, string actual, string how)
    {
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{how} disagree:\n  whole: {expected}\n  {how}: {actual}");
        }
    }

    private static ReadOnlySequence<byte> Segment(byte[] data, int size)
    {
        var sizes = new List<int>();
        for (int offset = 0; offset < data.Length; offset += size)
        {
            sizes.Add(Math.Min(size, data.Length - offset));
        }

        return Segment(data, sizes.ToArray());
    }

    private static ReadOnlySequence<byte> Segment(byte[] data, int[] sizes)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Chunk? first = null;
        Chunk? last = null;
        int offset = 0;
        foreach (int size in sizes)
        {
            var chunk = new Chunk(data.AsMemory(offset, size), offset);
            offset += size;
            if (first is null)
            {
                first = chunk;
            }
            else
            {
                last!.SetNext(chunk);
            }

            last = chunk;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void SetNext(Chunk next) => Next = next;
    }
}
