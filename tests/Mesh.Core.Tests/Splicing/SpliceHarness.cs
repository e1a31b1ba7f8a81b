using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Mesh.Splicing;

namespace Mesh.Core.Tests.Splicing;

/// <summary>Real loopback connections around a splice: client ↔ (relay side A | splice | relay side B) ↔ server.</summary>
internal static class SpliceHarness
{
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(90);

    public static IPAddress Loopback(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;

    /// <summary>Two connected sockets: (the connecting end, the accepted end).</summary>
    public static async Task<(Socket Connected, Socket Accepted)> PairAsync(AddressFamily family = AddressFamily.InterNetwork)
    {
        using var listener = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(Loopback(family), 0));
        listener.Listen(1);
        var client = new Socket(family, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accept = listener.AcceptAsync();
        await client.ConnectAsync(listener.LocalEndPoint!);
        Socket server = await accept;
        server.NoDelay = true;
        return (client, server);
    }

    /// <summary>A client and a server spliced through two relay sockets; the splice task owns the relay sockets.</summary>
    public static async Task<Relayed> RelayAsync(bool kernel, AddressFamily family = AddressFamily.InterNetwork, SpliceOptions? options = null,
        ReadOnlyMemory<byte> prefix = default, TcpSplicer? splicer = null, CancellationToken cancellationToken = default)
    {
        (Socket client, Socket relayA) = await PairAsync(family);
        (Socket relayB, Socket server) = await PairAsync(family);
        options = With(options ?? new SpliceOptions(), kernel);
        Task<SpliceResult> splice = (splicer ?? new TcpSplicer()).SpliceAsync(relayA, relayB, prefix, options, cancellationToken);
        return new Relayed(client, server, relayA, relayB, splice);
    }

    public static SpliceOptions With(SpliceOptions o, bool kernel) => new()
    {
        UseKernelPath = kernel,
        IdleTimeout = o.IdleTimeout,
        DrainTimeout = o.DrainTimeout,
        MaxBufferedBytesPerDirection = o.MaxBufferedBytesPerDirection,
        TimeProvider = o.TimeProvider,
        TruncatedTlsEnd = o.TruncatedTlsEnd,
        UseEventLoop = o.UseEventLoop,
    };

    /// <summary>Sends <paramref name="total"/> pseudo-random bytes in random write sizes; returns their SHA-256.</summary>
    public static async Task<byte[]> SendRandomAsync(Socket socket, long total, int seed, int maxWrite = 256 * 1024, bool shutdown = true)
    {
        var random = new Random(seed);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] chunk = new byte[maxWrite];
        long left = total;
        while (left > 0)
        {
            int size = (int)Math.Min(left, random.Next(1, maxWrite + 1));
            random.NextBytes(chunk.AsSpan(0, size));
            hash.AppendData(chunk, 0, size);
            ReadOnlyMemory<byte> rest = chunk.AsMemory(0, size);
            while (!rest.IsEmpty)
            {
                rest = rest[await socket.SendAsync(rest, SocketFlags.None)..];
            }

            left -= size;
        }

        if (shutdown)
        {
            socket.Shutdown(SocketShutdown.Send);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>Reads until the peer's FIN; returns the byte count and SHA-256. A reset throws.</summary>
    public static async Task<(long Count, byte[] Hash)> ReceiveAllAsync(Socket socket, int bufferSize = 128 * 1024)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[bufferSize];
        long count = 0;
        while (true)
        {
            int read = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (read == 0)
            {
                return (count, hash.GetHashAndReset());
            }

            hash.AppendData(buffer, 0, read);
            count += read;
        }
    }

    /// <summary>Reads until the connection ends; returns how: <see cref="SocketError.Success"/> for a clean FIN, else the error.</summary>
    public static async Task<SocketError> ReadToEndAsync(Socket socket)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None) > 0)
            {
            }

            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    public static async Task SendAsync(Socket socket, byte[] bytes)
    {
        ReadOnlyMemory<byte> rest = bytes;
        while (!rest.IsEmpty)
        {
            rest = rest[await socket.SendAsync(rest, SocketFlags.None)..];
        }
    }

    public static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        int done = 0;
        while (done < count)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(done), SocketFlags.None);
            if (read == 0)
            {
                throw new EndOfStreamException($"EOF after {done} of {count} bytes.");
            }

            done += read;
        }

        return buffer;
    }

    /// <summary>
    /// Open sockets and pipes of this process: what a splice could leak. Files are left out: the runtime opens assemblies
    /// and symbol files lazily (a first stack trace opens .pdb files), which says nothing about the splicer.
    /// </summary>
    public static int OpenDescriptors() => CountDescriptors().Total;

    public static string DescribeDescriptors()
    {
        (int sockets, int pipes, int _) = CountDescriptors();
        return $"{sockets} sockets, {pipes} pipes";
    }

    private static (int Sockets, int Pipes, int Total) CountDescriptors()
    {
        int sockets = 0, pipes = 0;
        foreach (string fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue;
            }

            if (target is null)
            {
                continue;
            }

            if (target.StartsWith("socket:", StringComparison.Ordinal))
            {
                sockets++;
            }
            else if (target.StartsWith("pipe:", StringComparison.Ordinal))
            {
                pipes++;
            }
        }

        return (sockets, pipes, sockets + pipes);
    }

    public static void Settle()
    {
        KernelPipePool.Clear();
        for (int i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}

internal sealed record Relayed(Socket Client, Socket Server, Socket RelayA, Socket RelayB, Task<SpliceResult> Splice) : IDisposable
{
    public Task<SpliceResult> Result => Splice.WaitAsync(SpliceHarness.Guard);

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }
}
