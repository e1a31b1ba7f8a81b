using BenchmarkDotNet.Attributes;
using Mesh.Sni.ClientHello;

namespace Mesh.Benchmarks.Sni;

/// <summary>
/// Parses every real capture from a span, as the mesh gateway does: it reads the first bytes of a connection into one buffer
/// and parses that. <see cref="ClientHelloParseBenchmarks"/> parses the same captures as a sequence: over the capture's
/// array whole, and in 512-byte segments as a <c>PipeReader</c> may hand them out.
/// </summary>
public class ClientHelloSpanParseBenchmarks
{
    private byte[] _bytes = [];

    public static IEnumerable<string> Captures() => SniCorpus.Captures();

    [ParamsSource(nameof(Captures))]
    public string Capture { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        _bytes = SniCorpus.Read(Capture);
        if (ClientHelloParser.Parse(_bytes, out ClientHelloInfo hello) != ClientHelloParseStatus.Complete)
        {
            throw new InvalidOperationException($"{Capture}: {hello.Status} {hello.InvalidReason}");
        }
    }

    [Benchmark]
    public int ParseSpan()
    {
        ClientHelloParser.Parse(_bytes, out ClientHelloInfo hello);
        return hello.ServerName.Length + hello.BytesConsumed;
    }
}
