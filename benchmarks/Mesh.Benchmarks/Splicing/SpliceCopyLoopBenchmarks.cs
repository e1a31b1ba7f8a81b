using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Mesh.Splicing;

namespace Mesh.Benchmarks.Splicing;

/// <summary>
/// The splicer's steady state: 64 KiB per operation from a client, through a running splice of two loopback
/// connections, to a server. The client and server use blocking calls so that the only code running per operation
/// besides them is the splice's loop; its receives, sends, pooled buffers and kernel pipes must allocate nothing.
/// </summary>
[BenchmarkCategory(MeshBenchmarkConfig.ZeroAllocation)]
public class SpliceCopyLoopBenchmarks
{
    private const int Size = 64 * 1024;
    private readonly byte[] _out = new byte[Size];
    private readonly byte[] _in = new byte[Size];
    private Socket _client = null!;
    private Socket _server = null!;
    private Task<SpliceResult> _splice = null!;

    /// <summary>Whether the splice uses splice(2) (Linux) or the copy loop.</summary>
    [Params(false, true)]
    public bool Kernel { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_client, Socket relayA) = Pair();
        (Socket relayB, _server) = Pair();
        _splice = new TcpSplicer().SpliceAsync(relayA, relayB, default, new SpliceOptions { UseKernelPath = Kernel, IdleTimeout = Timeout.InfiniteTimeSpan });
        Random.Shared.NextBytes(_out);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Shutdown(SocketShutdown.Send);
        _server.Shutdown(SocketShutdown.Send);
        _splice.Wait(TimeSpan.FromSeconds(10));
        _client.Dispose();
        _server.Dispose();
    }

    [Benchmark]
    public int Pump64KiB()
    {
        int sent = 0;
        while (sent < Size)
        {
            sent += _client.Send(_out, sent, Size - sent, SocketFlags.None);
        }

        int received = 0;
        while (received < Size)
        {
            received += _server.Receive(_in, received, Size - received, SocketFlags.None);
        }

        return received;
    }

    private static (Socket Connected, Socket Accepted) Pair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Connect(listener.LocalEndPoint!);
        Socket server = listener.Accept();
        server.NoDelay = true;
        return (client, server);
    }
}
