using System.Net;
using System.Net.Sockets;
using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

[TestFixture]
[NonParallelizable]
public sealed class ConcurrentSpliceTests
{
    private const int Connections = 4000;

    // Each relayed connection costs four descriptors in this process (client, two relay sockets, server): 16,000 of the
    // 20,000 allowed, kernel pipes included (the pool caps them and falls back to a buffer when none can be had).
    [TestCase(false)]
    [TestCase(true)]
    public async Task Four_thousand_splices_run_at_once_and_each_carries_its_own_bytes(bool kernel)
    {
        using var front = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var back = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        front.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        back.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        front.Listen(512);
        back.Listen(512);

        var splicer = new TcpSplicer();
        var options = new SpliceOptions { UseKernelPath = kernel };
        var clients = new Socket[Connections];
        var servers = new Socket[Connections];
        var splices = new Task<SpliceResult>[Connections];
        try
        {
            for (int i = 0; i < Connections; i++)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                Task<Socket> acceptA = front.AcceptAsync();
                await client.ConnectAsync(front.LocalEndPoint!);
                Socket relayA = await acceptA;
                var relayB = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                Task<Socket> acceptB = back.AcceptAsync();
                await relayB.ConnectAsync(back.LocalEndPoint!);
                servers[i] = await acceptB;
                clients[i] = client;
                splices[i] = splicer.SpliceAsync(relayA, relayB, default, options);
            }

            // Every client talks to its own server, at once, while all 4,000 splices are open.
            var echoes = new Task[Connections];
            for (int i = 0; i < Connections; i++)
            {
                echoes[i] = EchoOnceAsync(clients[i], servers[i], i);
            }

            await Task.WhenAll(echoes).WaitAsync(TimeSpan.FromMinutes(2));
            int running = 0;
            foreach (Task<SpliceResult> s in splices)
            {
                running += s.IsCompleted ? 0 : 1;
            }

            Assert.That(running, Is.EqualTo(Connections), "every splice was open at the same time");

            // Then all close cleanly: client half-closes, server sees the FIN and closes its side.
            for (int i = 0; i < Connections; i++)
            {
                clients[i].Shutdown(SocketShutdown.Send);
                echoes[i] = CloseAsync(clients[i], servers[i]);
            }

            await Task.WhenAll(echoes).WaitAsync(TimeSpan.FromMinutes(2));
            SpliceResult[] results = await Task.WhenAll(splices).WaitAsync(TimeSpan.FromMinutes(2));
            int completed = 0;
            foreach (SpliceResult result in results)
            {
                completed += result is { End: SpliceEnd.Completed, BytesAToB: 8, BytesBToA: 8 } ? 1 : 0;
            }

            Assert.That(completed, Is.EqualTo(Connections));
        }
        finally
        {
            foreach (Socket? s in clients)
            {
                s?.Dispose();
            }

            foreach (Socket? s in servers)
            {
                s?.Dispose();
            }
        }
    }

    private static async Task EchoOnceAsync(Socket client, Socket server, int id)
    {
        byte[] message = BitConverter.GetBytes((long)id);
        await SendAsync(client, message);
        byte[] atServer = await ReceiveExactlyAsync(server, 8);
        Assert.That(BitConverter.ToInt64(atServer), Is.EqualTo(id));
        await SendAsync(server, atServer);
        byte[] atClient = await ReceiveExactlyAsync(client, 8);
        Assert.That(BitConverter.ToInt64(atClient), Is.EqualTo(id));
    }

    private static async Task CloseAsync(Socket client, Socket server)
    {
        Assert.That(await ReadToEndAsync(server), Is.EqualTo(SocketError.Success));
        server.Shutdown(SocketShutdown.Send);
        Assert.That(await ReadToEndAsync(client), Is.EqualTo(SocketError.Success));
    }
}
