using System.Net;
using System.Net.Sockets;
using Mesh.Splicing;
using Mesh.Tests.Shared;

namespace Mesh.Core.Tests.Splicing;

/// <summary>
/// The child process of <see cref="TcpAcceptLoopTests.Out_of_descriptors_it_backs_off_and_accepts_once_they_free_up"/>: an accept
/// loop whose process runs out of descriptors on command (<c>exhaust</c>) and gets them back (<c>restore</c>); it stops when
/// its standard input ends.
/// </summary>
internal static class AcceptLoopOutOfDescriptorsChild
{
    public const string Scenario = "accept-loop-out-of-descriptors";

    public static async Task<int> RunAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);

        // Everything that opens a descriptor once per process (the socket engine's epoll and its pipe, the console's streams)
        // does so now, before there are none.
        using (var warm = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await warm.ConnectAsync(listener.LocalEndPoint!);
            using Socket warmed = await listener.AcceptAsync();
        }

        // The runtime starts its timer thread at the first timer, and a new thread needs a descriptor (a pipe): a process that
        // has been running for a while has it, this one makes it now.
        await Task.Delay(1);

        // The loop starts while descriptors are there, as in a process that fills up later.
        using var stop = new CancellationTokenSource();
        Task<long> loop = TcpAcceptLoop.RunAsync(
            listener,
            accepted =>
            {
                Console.WriteLine($"accepted {accepted.RemoteEndPoint}");
                accepted.Dispose();
            },
            new AcceptBackoffLineLogger(),
            cancellationToken: stop.Token);
        DescriptorLimit.ExhaustAndRestoreOnCommand(((IPEndPoint)listener.LocalEndPoint!).Port);
        await stop.CancelAsync();
        Console.WriteLine($"stopped {await loop}");
        return 0;
    }
}
