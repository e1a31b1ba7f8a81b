using System.Net.Sockets;
using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

/// <summary>The same bytes and ends whether idle sources wait on Mesh's event loop or on the runtime's socket engine.</summary>
[TestFixture]
public sealed class SpliceEventLoopTests
{
    [Test]
    public async Task Bytes_and_fins_cross_both_ways_with_and_without_the_event_loop([Values(false, true)] bool eventLoop, [Values(false, true)] bool kernel)
    {
        using Relayed r = await RelayAsync(kernel, options: new SpliceOptions { UseEventLoop = eventLoop });
        Task<byte[]> toServer = SendRandomAsync(r.Client, 2_000_000, 11);
        Task<byte[]> toClient = SendRandomAsync(r.Server, 2_000_000, 12);
        (long serverCount, byte[] serverHash) = await ReceiveAllAsync(r.Server);
        (long clientCount, byte[] clientHash) = await ReceiveAllAsync(r.Client);
        SpliceResult result = await r.Result;
        Assert.Multiple(async () =>
        {
            Assert.That(serverCount, Is.EqualTo(2_000_000));
            Assert.That(serverHash, Is.EqualTo(await toServer));
            Assert.That(clientCount, Is.EqualTo(2_000_000));
            Assert.That(clientHash, Is.EqualTo(await toClient));
            Assert.That(result.End, Is.EqualTo(SpliceEnd.Completed));
        });
    }

    [Test]
    public async Task A_one_byte_request_and_its_fin_sent_together_both_arrive([Values(false, true)] bool eventLoop, [Values(false, true)] bool kernel)
    {
        // The FIN is queued behind the byte: on an edge-triggered loop it brings no edge of its own once the byte's is taken.
        using Relayed r = await RelayAsync(kernel, options: new SpliceOptions { UseEventLoop = eventLoop });
        await SendAsync(r.Client, [42]);
        r.Client.Shutdown(SocketShutdown.Send);
        (long count, _) = await ReceiveAllAsync(r.Server).WaitAsync(TimeSpan.FromSeconds(10));
        r.Server.Shutdown(SocketShutdown.Send);
        Assert.That(count, Is.EqualTo(1));
        Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.Completed));
    }
}
