using System.Buffers;
using BenchmarkDotNet.Attributes;
using Mesh.Sni.ClientHello;

namespace Mesh.Benchmarks.Sni;

/// <summary>
/// Parses every real capture as a sequence: whole, over its array (Segment 0), and in 512-byte segments. A 1-byte
/// segmentation is only checked for the same answer in setup, not timed.
/// </summary>
public class ClientHelloParseBenchmarks
{
    private byte[] _bytes = [];
    private ReadOnlySequence<byte> _input;

    public static IEnumerable<string> Captures() => SniCorpus.Captures();

    [ParamsSource(nameof(Captures))]
    public string Capture { get; set; } = string.Empty;

    [Params(0, 512)]
    public int Segment { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _bytes = SniCorpus.Read(Capture);
        _input = Segment == 0 ? new ReadOnlySequence<byte>(_bytes) : SniCorpus.Segmented(_bytes, Segment);
        string expected = Describe(new ReadOnlySequence<byte>(_bytes));
        foreach (ReadOnlySequence<byte> other in new[] { _input, SniCorpus.Segmented(_bytes, 1) })
        {
            if (Describe(other) != expected)
            {
                throw new InvalidOperationException($"{Capture}: a segmented parse differs from the whole.");
            }
        }

        if (!expected.StartsWith("Complete", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{Capture}: {expected}");
        }
    }

    [Benchmark]
    public int Parse()
    {
        ClientHelloParser.Parse(_input, out ClientHelloInfo hello);
        return hello.ServerName.Length + hello.BytesConsumed;
    }

    private static string Describe(ReadOnlySequence<byte> input)
    {
        ClientHelloParseStatus status = ClientHelloParser.Parse(input, out ClientHelloInfo hello);
        return $"{status} {hello.BytesConsumed} {hello.GetServerNameString()} {hello.ExtensionCount} {hello.AlpnProtocolCount}";
    }
}
