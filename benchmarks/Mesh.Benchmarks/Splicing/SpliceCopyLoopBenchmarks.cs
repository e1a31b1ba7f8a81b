using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Mesh.Splicing;

namespace Mesh.Benchmarks.Splicing;

/// <summary>
/// The splicer's steady state: 16 KiB per operation (at least one read and one send of the splice each) from a client, through a running splice of two loopback
/// connections, to a server. The client and server use blocking calls so that the only code running per operation
/// besides them is the splice's loop; its receives, sends, pooled buffers and kernel pipes must allocate nothing. Small
/// operations keep the runtime's own rare background allocations (a few KB now and then, with or without a splice)
/// below a byte per operation, while any allocation per read would show as tens of bytes.
/// </summary>
public abstract class SplicePumpBenchmarksBase
{
    /// <summary>Whether the relay's sends to the server have to wait (<see cref="SpliceBackpressureBenchmarks"/>).</summary>
    protected abstract bool RelaySendsWait { get; }

    private const int Size = 16 * 1024;
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
        // Threads the pool would otherwise inject (and allocate for) in the middle of a measurement.
        ThreadPool.GetMinThreads(out int workers, out int completionPorts);
        ThreadPool.SetMinThreads(Math.Max(workers, 8), completionPorts);

        (_client, Socket relayA) = Pair(maxSegment: 0);

        // Small segments and a small send buffer: the relay's sends keep waiting for acknowledgements, which with
        // segments this small come at once (a buffer below loopback's 64 KiB MSS would meet the delayed-ACK timer instead).
        (Socket relayB, _server) = Pair(maxSegment: RelaySendsWait ? 1400 : 0);
        if (RelaySendsWait)
        {
            relayB.SendBufferSize = 8 * 1024;
        }

        _splice = new TcpSplicer().SpliceAsync(relayA, relayB, default, new SpliceOptions { UseKernelPath = Kernel, IdleTimeout = Timeout.InfiniteTimeSpan });
        Random.Shared.NextBytes(_out);

        // Reach the steady state before BenchmarkDotNet measures: the loop's methods tiered up (the short CI job has a
        // single warm-up iteration) and the buffer pool and thread pool grown to what the loop needs.
        for (int i = 0; i < 20_000; i++)
        {
            _ = Pump16KiB();
        }

        Thread.Sleep(500);
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

    // A fixed count, not one the pilot picks from the host's speed: the measurement run of the memory diagnoser also counts
    // about 5.6 KB the in-process harness allocates once per benchmark (seen in every benchmark's GC line), which over the
    // 8,192 operations a loud host let the pilot choose came to 0.7 B/op, reported as 1; over 32,768 it stays below a half.
    [Benchmark]
    [InvocationCount(32768)]
    public int Pump16KiB()
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

    private static (Socket Connected, Socket Accepted) Pair(int maxSegment)
    {
        // IPPROTO_TCP, TCP_MAXSEG (Linux): not among the options .NET names.
        const int IpProtoTcp = 6, TcpMaxSegment = 2;
        byte[] mss = BitConverter.GetBytes(maxSegment);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (maxSegment > 0)
        {
            listener.SetRawSocketOption(IpProtoTcp, TcpMaxSegment, mss);
        }

        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (maxSegment > 0)
        {
            client.SetRawSocketOption(IpProtoTcp, TcpMaxSegment, mss);
        }

        client.Connect(listener.LocalEndPoint!);
        Socket server = listener.Accept();
        server.NoDelay = true;
        return (client, server);
    }
}

/// <summary>
/// The same with a small send buffer on the relay's upstream socket, so that its sends (and, on the kernel path, its pipe
/// drains) keep waiting for acknowledgements: the path a slow reader puts the splice on. Not in the CI zero-allocation
/// category: thread-pool hops make rare runtime allocations (a work-queue segment) show up as a fraction of a byte.
/// </summary>
public class SpliceBackpressureBenchmarks : SplicePumpBenchmarksBase
{
    protected override bool RelaySendsWait => true;
}

/// <summary>The steady state with nothing waiting: in the CI zero-allocation category.</summary>
[BenchmarkCategory(MeshBenchmarkConfig.ZeroAllocation)]
public class SpliceCopyLoopBenchmarks : SplicePumpBenchmarksBase
{
    protected override bool RelaySendsWait => false;
}
