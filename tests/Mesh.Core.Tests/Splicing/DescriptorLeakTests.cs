using System.Net.Sockets;
using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

[TestFixture]
[NonParallelizable]
public sealed class DescriptorLeakTests
{
    [Test]
    public async Task Every_kind_of_end_gives_back_every_descriptor([Values(false, true)] bool kernel)
    {
        await RunEveryEndAsync(kernel);
        Settle();
        int before = OpenDescriptors();
        string beforeKinds = DescribeDescriptors();
        for (int round = 0; round < 3; round++)
        {
            await RunEveryEndAsync(kernel);
        }

        Settle();
        Assert.Multiple(() =>
        {
            Assert.That(OpenDescriptors(), Is.EqualTo(before), $"before: {beforeKinds}; after: {DescribeDescriptors()}");
            Assert.That(KernelPipePool.InUse, Is.Zero);
        });
    }

    private static async Task RunEveryEndAsync(bool kernel)
    {
        // Clean end with data both ways.
        using (Relayed r = await RelayAsync(kernel))
        {
            Task<byte[]> a = SendRandomAsync(r.Client, 3_000_000, 1);
            Task<byte[]> b = SendRandomAsync(r.Server, 3_000_000, 2);
            _ = await ReceiveAllAsync(r.Server);
            _ = await ReceiveAllAsync(r.Client);
            await a;
            await b;
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.Completed));
        }

        // Reset mid-transfer.
        using (Relayed r = await RelayAsync(kernel))
        {
            Task<byte[]> sending = SendRandomAsync(r.Client, 1L << 40, 3);
            _ = await ReceiveExactlyAsync(r.Server, 1_000_000);
            r.Server.LingerState = new LingerOption(true, 0);
            r.Server.Dispose();
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.ResetByB));
            Assert.That(async () => await sending, Throws.InstanceOf<SocketException>());
        }

        // Cancelled while idle, and while both directions wait with zero-byte receives.
        using (var cts = new CancellationTokenSource())
        using (Relayed r = await RelayAsync(kernel, cancellationToken: cts.Token))
        {
            await SendAsync(r.Client, [1]);
            _ = await ReceiveExactlyAsync(r.Server, 1);
            await cts.CancelAsync();
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.Cancelled));
        }

        // Idle timeout.
        var clock = new ManualTimeProvider();
        using (Relayed r = await RelayAsync(kernel, options: new SpliceOptions { IdleTimeout = TimeSpan.FromSeconds(1), TimeProvider = clock }))
        {
            clock.Advance(TimeSpan.FromSeconds(2));
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.IdleTimeout));
        }
    }
}
