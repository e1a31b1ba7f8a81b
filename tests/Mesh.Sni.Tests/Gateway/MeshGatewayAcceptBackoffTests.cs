using System.Net;
using System.Net.Sockets;
using Mesh.Tests.Shared;

namespace Mesh.Sni.Tests.Gateway;

/// <summary>
/// A gateway whose process runs out of file descriptors backs off accepting the way every listener of the mesh does (10 ms,
/// doubling up to 1 s, TcpAcceptLoop's policy) on both of its engines, and accepts the waiting connection once descriptors free up.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
[NonParallelizable]
public sealed class MeshGatewayAcceptBackoffTests(bool socketEngine)
{
    // Out of descriptors, in a child process: a test host without descriptors would fail whatever else it opens meanwhile.
    [Test]
    public async Task Out_of_descriptors_it_backs_off_10_ms_doubling_and_accepts_once_they_free_up()
    {
        Assume.That(OperatingSystem.IsLinux(), "RLIMIT_NOFILE (Linux)");
        await using var child = ChildProcess.Start(GatewayOutOfDescriptorsChild.Scenario, socketEngine ? "sockets" : "loop");
        int port = int.Parse(await child.WaitForAsync("listening "), System.Globalization.CultureInfo.InvariantCulture);
        await child.SendAsync("exhaust");
        await child.WaitForAsync("exhausted");

        // The handshake completes in the kernel's backlog; only accept(2) needs a descriptor, and there is none.
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).WaitAsync(TimeSpan.FromSeconds(10));
        var delays = new List<int>();
        while (delays.Count < 3)
        {
            delays.Add(int.Parse((await child.WaitForAsync("backoff ")).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        }

        await child.SendAsync("restore");
        await child.WaitForAsync("restored");

        // Descriptors are back: the waiting connection is accepted, and being no TLS it is closed.
        await client.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
        int read = await ReadOrReset(client).WaitAsync(TimeSpan.FromSeconds(10));
        int exitCode = await child.StopAsync();
        await child.WaitForAsync("stopped");

        Assert.Multiple(() =>
        {
            Assert.That(delays, Is.EqualTo(new[] { 10, 20, 40 }), "the back-off each AcceptBackoff warning announces, in ms");
            Assert.That(read, Is.Zero, "accepted and closed: not TLS");
            Assert.That(exitCode, Is.Zero, "the gateway ran out of descriptors and carried on: " + child.Transcript);
        });
    }

    private static async Task<int> ReadOrReset(Socket socket)
    {
        try
        {
            return await socket.ReceiveAsync(new byte[16]);
        }
        catch (SocketException)
        {
            return 0;
        }
    }
}
