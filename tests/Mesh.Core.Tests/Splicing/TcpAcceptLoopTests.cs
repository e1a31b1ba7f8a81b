using System.Net;
using System.Net.Sockets;
using Mesh.Splicing;
using Mesh.Tests.Shared;

namespace Mesh.Core.Tests.Splicing;

[TestFixture]
[NonParallelizable]
public sealed class TcpAcceptLoopTests
{
    // Out of descriptors, in a child process: a test host without descriptors would fail whatever else it opens meanwhile.
    [Test]
    public async Task Out_of_descriptors_it_backs_off_and_accepts_once_they_free_up()
    {
        Assume.That(OperatingSystem.IsLinux(), "RLIMIT_NOFILE (Linux)");
        await using var child = ChildProcess.Start(AcceptLoopOutOfDescriptorsChild.Scenario);
        int port = int.Parse(await child.WaitForAsync("listening "), System.Globalization.CultureInfo.InvariantCulture);
        await child.SendAsync("exhaust");
        await child.WaitForAsync("exhausted");

        // The handshake completes in the kernel's backlog; only accept(2) needs a descriptor, and there is none.
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(SpliceHarness.Guard);
        var delays = new List<int>();
        while (delays.Count < 3)
        {
            delays.Add(int.Parse((await child.WaitForAsync("backoff ")).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        }

        await child.SendAsync("restore");
        await child.WaitForAsync("restored");
        string acceptedFrom = await child.WaitForAsync("accepted ");
        await child.SendAsync("more lines are not commands");
        int exitCode = await child.StopAsync();
        long backoffs = long.Parse(await child.WaitForAsync("stopped "), System.Globalization.CultureInfo.InvariantCulture);

        Assert.Multiple(() =>
        {
            Assert.That(delays, Is.EqualTo(new[] { 10, 20, 40 }), "it logged its back-offs, doubling from 10 ms");

            // Doubling caps the retries at a handful, where a spinning loop would have made thousands.
            Assert.That(backoffs, Is.InRange(3, 49));
            Assert.That(acceptedFrom, Is.EqualTo(client.LocalEndPoint!.ToString()), "the waiting connection was accepted once descriptors were back");
            Assert.That(exitCode, Is.Zero, "the process ran out of descriptors and carried on: " + child.Transcript);
        });
    }

    [Test]
    public async Task Cancellation_stops_the_loop()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        using var stop = new CancellationTokenSource();
        int count = 0;
        Task<long> loop = TcpAcceptLoop.RunAsync(listener, s => { Interlocked.Increment(ref count); s.Dispose(); }, cancellationToken: stop.Token);
        using (var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await c.ConnectAsync(listener.LocalEndPoint!);
            for (int i = 0; i < 2000 && Volatile.Read(ref count) == 0; i++)
            {
                await Task.Delay(5);
            }
        }

        await stop.CancelAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(await loop.WaitAsync(SpliceHarness.Guard), Is.Zero);
            Assert.That(count, Is.EqualTo(1));
        });
    }
}
