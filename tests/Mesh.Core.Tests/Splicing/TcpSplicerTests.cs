using System.Net.Sockets;
using System.Security.Cryptography;
using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

[TestFixture]
[NonParallelizable]
public sealed class TcpSplicerTests
{
    private const long BulkPerDirection = 256L * 1024 * 1024;

    // 256 MiB each way at once, on each path: 1 GiB through the splicer across the two test cases.
    [TestCase(false)]
    [TestCase(true)]
    public async Task Random_data_both_ways_at_once_arrives_intact(bool kernel)
    {
        using Relayed r = await RelayAsync(kernel);
        Task<byte[]> clientSends = SendRandomAsync(r.Client, BulkPerDirection, seed: 1);
        Task<byte[]> serverSends = SendRandomAsync(r.Server, BulkPerDirection, seed: 2);
        Task<(long, byte[])> serverReceives = ReceiveAllAsync(r.Server);
        Task<(long, byte[])> clientReceives = ReceiveAllAsync(r.Client);

        (long toServer, byte[] toServerHash) = await serverReceives.WaitAsync(Guard);
        (long toClient, byte[] toClientHash) = await clientReceives.WaitAsync(Guard);
        SpliceResult result = await r.Result;

        Assert.Multiple(async () =>
        {
            Assert.That(toServer, Is.EqualTo(BulkPerDirection));
            Assert.That(toClient, Is.EqualTo(BulkPerDirection));
            Assert.That(toServerHash, Is.EqualTo(await clientSends));
            Assert.That(toClientHash, Is.EqualTo(await serverSends));
            Assert.That(result.End, Is.EqualTo(SpliceEnd.Completed));
            Assert.That(result.BytesAToB, Is.EqualTo(BulkPerDirection));
            Assert.That(result.BytesBToA, Is.EqualTo(BulkPerDirection));
            Assert.That(result.UsedKernelPath, Is.EqualTo(kernel && TcpSplicer.KernelPathAvailable));
        });
    }

    [Test]
    public async Task Half_close_keeps_the_other_direction_flowing(
        [Values(false, true)] bool kernel, [Values(AddressFamily.InterNetwork, AddressFamily.InterNetworkV6)] AddressFamily family)
    {
        using Relayed r = await RelayAsync(kernel, family);
        byte[] request = RandomNumberGenerator.GetBytes(300_000);
        byte[] reply = RandomNumberGenerator.GetBytes(2_000_000);

        // The client sends everything and shuts down its sending side before it reads anything.
        await SendAsync(r.Client, request);
        r.Client.Shutdown(SocketShutdown.Send);

        (long count, byte[] hash) = await ReceiveAllAsync(r.Server).WaitAsync(Guard);
        Assert.That(count, Is.EqualTo(request.Length), "the server sees the whole request, then the FIN");
        Assert.That(hash, Is.EqualTo(SHA256.HashData(request)));

        // Only now does the server answer: the half-closed connection must still carry it.
        await SendAsync(r.Server, reply);
        r.Server.Shutdown(SocketShutdown.Send);
        (long replyCount, byte[] replyHash) = await ReceiveAllAsync(r.Client).WaitAsync(Guard);

        SpliceResult result = await r.Result;
        Assert.Multiple(() =>
        {
            Assert.That(replyCount, Is.EqualTo(reply.Length));
            Assert.That(replyHash, Is.EqualTo(SHA256.HashData(reply)));
            Assert.That(result.End, Is.EqualTo(SpliceEnd.Completed));
            Assert.That(result.BytesAToB, Is.EqualTo(request.Length));
            Assert.That(result.BytesBToA, Is.EqualTo(reply.Length));
        });
    }

    [Test]
    public async Task Prefix_reaches_side_b_before_side_a_bytes([Values(false, true)] bool kernel)
    {
        byte[] prefix = "PREFACE:"u8.ToArray();
        using Relayed r = await RelayAsync(kernel, prefix: prefix);
        await SendAsync(r.Client, "after"u8.ToArray());
        r.Client.Shutdown(SocketShutdown.Send);
        (long count, byte[] hash) = await ReceiveAllAsync(r.Server).WaitAsync(Guard);
        r.Server.Shutdown(SocketShutdown.Send);
        SpliceResult result = await r.Result;
        Assert.Multiple(() =>
        {
            Assert.That(count, Is.EqualTo(13));
            Assert.That(hash, Is.EqualTo(SHA256.HashData("PREFACE:after"u8)));
            Assert.That(result.BytesAToB, Is.EqualTo(13));
            Assert.That(result.End, Is.EqualTo(SpliceEnd.Completed));
        });
    }

    [Test]
    public async Task A_reset_by_either_side_reaches_the_other_as_a_reset(
        [Values(false, true)] bool kernel, [Values(true, false)] bool clientResets,
        [Values(AddressFamily.InterNetwork, AddressFamily.InterNetworkV6)] AddressFamily family)
    {
        using Relayed r = await RelayAsync(kernel, family);
        await SendAsync(r.Client, new byte[1000]);
        _ = await ReceiveExactlyAsync(r.Server, 1000).WaitAsync(Guard);
        await SendAsync(r.Server, new byte[1000]);
        _ = await ReceiveExactlyAsync(r.Client, 1000).WaitAsync(Guard);

        Socket resetter = clientResets ? r.Client : r.Server;
        Socket survivor = clientResets ? r.Server : r.Client;
        resetter.LingerState = new LingerOption(true, 0);
        resetter.Dispose();

        SocketError seen = await ReadToEndAsync(survivor).WaitAsync(Guard);
        SpliceResult result = await r.Result;
        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.EqualTo(SocketError.ConnectionReset), "the far peer must not take a reset for a clean end");
            Assert.That(result.End, Is.EqualTo(clientResets ? SpliceEnd.ResetByA : SpliceEnd.ResetByB));
        });
    }

    [Test]
    public async Task A_peer_that_closes_while_data_still_comes_resets_the_sender([Values(false, true)] bool kernel)
    {
        using Relayed r = await RelayAsync(kernel);

        // The client closes outright (no half-close); the server keeps sending: the client's kernel answers with a reset,
        // which must reach the server instead of the data vanishing.
        r.Client.Dispose();
        var serverSees = ReadToEndAsync(r.Server);
        SocketError sendError = SocketError.Success;
        try
        {
            for (int i = 0; i < 10_000 && !r.Splice.IsCompleted; i++)
            {
                await SendAsync(r.Server, new byte[64 * 1024]).WaitAsync(Guard);
            }

            await r.Result;
            await SendAsync(r.Server, new byte[64 * 1024]);
            await SendAsync(r.Server, new byte[64 * 1024]);
        }
        catch (SocketException e)
        {
            sendError = e.SocketErrorCode;
        }

        SpliceResult result = await r.Result;
        SocketError readError = await serverSees.WaitAsync(Guard);
        Assert.Multiple(() =>
        {
            Assert.That(result.End, Is.EqualTo(SpliceEnd.ResetByA));
            Assert.That(new[] { sendError, readError }, Has.Some.EqualTo(SocketError.ConnectionReset).Or.Some.EqualTo(SocketError.Shutdown));
        });
    }

    [Test]
    public async Task Idle_timeout_resets_both_sides_after_no_byte_moved_for_that_long([Values(false, true)] bool kernel)
    {
        var clock = new ManualTimeProvider();
        using Relayed r = await RelayAsync(kernel, options: new SpliceOptions { IdleTimeout = TimeSpan.FromSeconds(10), TimeProvider = clock });

        clock.Advance(TimeSpan.FromSeconds(6));
        await SendAsync(r.Client, [1, 2, 3]);
        _ = await ReceiveExactlyAsync(r.Server, 3).WaitAsync(Guard);

        // 12 s since the start but 6 s since the last byte: still open.
        clock.Advance(TimeSpan.FromSeconds(6));
        await SendAsync(r.Server, [4]);
        Assert.That(await ReceiveExactlyAsync(r.Client, 1).WaitAsync(Guard), Is.EqualTo(new byte[] { 4 }));

        clock.Advance(TimeSpan.FromSeconds(11));
        SpliceResult result = await r.Result;
        Assert.Multiple(async () =>
        {
            Assert.That(result.End, Is.EqualTo(SpliceEnd.IdleTimeout));
            Assert.That(await ReadToEndAsync(r.Client).WaitAsync(Guard), Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(await ReadToEndAsync(r.Server).WaitAsync(Guard), Is.EqualTo(SocketError.ConnectionReset));
        });
    }

    [Test]
    public async Task Drain_timeout_applies_once_a_direction_has_ended([Values(false, true)] bool kernel)
    {
        var clock = new ManualTimeProvider();
        using Relayed r = await RelayAsync(kernel, options: new SpliceOptions
        {
            IdleTimeout = TimeSpan.FromHours(1),
            DrainTimeout = TimeSpan.FromSeconds(5),
            TimeProvider = clock,
        });

        r.Client.Shutdown(SocketShutdown.Send);
        Assert.That(await ReadToEndAsync(r.Server).WaitAsync(Guard), Is.EqualTo(SocketError.Success));

        // The half-close is recorded just after the FIN is forwarded; step the clock until the splice ends.
        for (int i = 0; i < 600 && !r.Splice.IsCompleted; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(10);
        }

        SpliceResult result = await r.Result;
        Assert.Multiple(() =>
        {
            Assert.That(result.End, Is.EqualTo(SpliceEnd.IdleTimeout));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromMinutes(1)), "the 5 s drain timeout, not the 1 h idle timeout, ended it");
        });
    }

    [Test]
    public async Task Cancellation_mid_transfer_resets_both_peers([Values(false, true)] bool kernel)
    {
        using var cts = new CancellationTokenSource();
        using Relayed r = await RelayAsync(kernel, cancellationToken: cts.Token);
        Task<byte[]> sending = SendRandomAsync(r.Client, 1L << 40, seed: 3);
        _ = await ReceiveExactlyAsync(r.Server, 4 * 1024 * 1024).WaitAsync(Guard);

        await cts.CancelAsync();
        SpliceResult result = await r.Result;
        SocketError serverSees = await ReadToEndAsync(r.Server).WaitAsync(Guard);
        Exception? senderFailure = null;
        try
        {
            await sending.WaitAsync(Guard);
        }
        catch (SocketException e)
        {
            senderFailure = e;
        }

        Assert.Multiple(() =>
        {
            Assert.That(result.End, Is.EqualTo(SpliceEnd.Cancelled));
            Assert.That(result.BytesAToB, Is.GreaterThanOrEqualTo(4 * 1024 * 1024));
            Assert.That(serverSees, Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(senderFailure, Is.InstanceOf<SocketException>(), "the sender learns of the end by a reset");
        });
    }

    [Test]
    public async Task Disposing_a_spliced_socket_from_outside_mid_transfer_resets_the_far_peer([Values(false, true)] bool kernel)
    {
        using Relayed r = await RelayAsync(kernel);
        Task<byte[]> sending = SendRandomAsync(r.Server, 1L << 40, seed: 4);
        _ = await ReceiveExactlyAsync(r.Client, 2 * 1024 * 1024).WaitAsync(Guard);

        // The owner of the relay disposes side A under the running splice.
        r.RelayA.Dispose();
        SpliceResult result = await r.Result;
        Exception? senderFailure = null;
        try
        {
            await sending.WaitAsync(Guard);
        }
        catch (SocketException e)
        {
            senderFailure = e;
        }

        Assert.Multiple(() =>
        {
            Assert.That(result.End, Is.AnyOf(SpliceEnd.Error, SpliceEnd.ResetByA));
            Assert.That(senderFailure, Is.InstanceOf<SocketException>(), "the server is reset, not left writing into a dead splice");
        });
    }

    [Test]
    public async Task A_cancelled_token_before_the_start_resets_at_once()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        using Relayed r = await RelayAsync(kernel: true, cancellationToken: cts.Token);
        SpliceResult result = await r.Result;
        Assert.Multiple(async () =>
        {
            Assert.That(result.End, Is.EqualTo(SpliceEnd.Cancelled));
            Assert.That(await ReadToEndAsync(r.Client).WaitAsync(Guard), Is.EqualTo(SocketError.ConnectionReset));
        });
    }

    [Test]
    public async Task A_stalled_reader_pauses_the_writer_and_bounds_what_the_splice_holds([Values(false, true)] bool kernel)
    {
        const int Threshold = 32 * 1024;
        using Relayed r = await RelayAsync(kernel, options: new SpliceOptions { MaxBufferedBytesPerDirection = Threshold });
        r.Client.Blocking = false;
        var random = new Random(5);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] chunk = new byte[64 * 1024];
        long sent = 0;
        int stalledRounds = 0;

        // The server never reads: the client must end up unable to send, however long it tries.
        while (stalledRounds < 20)
        {
            random.NextBytes(chunk);
            int n = r.Client.Send(chunk, 0, chunk.Length, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                stalledRounds++;
                await Task.Delay(50);
                continue;
            }

            Assert.That(error, Is.EqualTo(SocketError.Success));
            hash.AppendData(chunk, 0, n);
            sent += n;
            stalledRounds = 0;
            Assert.That(sent, Is.LessThan(1L << 30), "the writer was never paused");
        }

        // What the kernel can hold on the path, plus the splice's own bound (its buffer, and on the kernel path one pipe).
        long kernelBuffers = r.Client.SendBufferSize + (long)r.RelayA.ReceiveBufferSize + r.RelayB.SendBufferSize + r.Server.ReceiveBufferSize;
        long spliceBound = Threshold + (kernel ? KernelPipePool.PipeSize : 0);
        Assert.That(sent, Is.LessThanOrEqualTo(kernelBuffers + spliceBound));
        Assert.That(r.Splice.IsCompleted, Is.False);

        // Nothing was lost while paused: the reader wakes up and gets every byte.
        r.Client.Blocking = true;
        r.Client.Shutdown(SocketShutdown.Send);
        (long count, byte[] received) = await ReceiveAllAsync(r.Server).WaitAsync(Guard);
        r.Server.Shutdown(SocketShutdown.Send);
        Assert.Multiple(async () =>
        {
            Assert.That(count, Is.EqualTo(sent));
            Assert.That(received, Is.EqualTo(hash.GetHashAndReset()));
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.Completed));
        });
    }

    [Test]
    public async Task Sockets_it_owns_get_no_delay_and_are_released([Values(false, true)] bool kernel)
    {
        (Socket client, Socket relayA) = await PairAsync();
        (Socket relayB, Socket server) = await PairAsync();
        relayA.NoDelay = false;
        relayB.NoDelay = false;
        Task<SpliceResult> splice = new TcpSplicer().SpliceAsync(relayA, relayB, default, With(new SpliceOptions(), kernel));
        Assert.Multiple(() =>
        {
            Assert.That(relayA.NoDelay, Is.True);
            Assert.That(relayB.NoDelay, Is.True);
        });
        client.Shutdown(SocketShutdown.Send);
        server.Shutdown(SocketShutdown.Send);
        Assert.That((await splice.WaitAsync(Guard)).End, Is.EqualTo(SpliceEnd.Completed));
        Assert.Throws<ObjectDisposedException>(() => _ = relayA.Available);
        Assert.Throws<ObjectDisposedException>(() => _ = relayB.Available);
        client.Dispose();
        server.Dispose();
    }

    [Test]
    public async Task Sockets_that_only_made_blocking_calls_are_spliced_without_blocking([Values(false, true)] bool kernel)
    {
        // Connected and accepted with blocking calls only, so no async operation has switched their descriptors to non-blocking:
        // splice(2) takes its blocking mode from the descriptor, so a splice that did not switch them would hang on an empty source.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(2);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        Socket relayA = listener.Accept();
        var relayB = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        relayB.Connect(listener.LocalEndPoint!);
        using Socket server = listener.Accept();
        Task<SpliceResult> splice = new TcpSplicer().SpliceAsync(relayA, relayB, default, With(new SpliceOptions(), kernel));

        byte[] request = RandomNumberGenerator.GetBytes(100_000);
        byte[] reply = RandomNumberGenerator.GetBytes(50_000);
        for (int round = 0; round < 3; round++)
        {
            // Each round leaves both sources empty, which is where a blocking descriptor would hang the splice.
            await SendAsync(client, request);
            Assert.That(await ReceiveExactlyAsync(server, request.Length).WaitAsync(Guard), Is.EqualTo(request));
            await SendAsync(server, reply);
            Assert.That(await ReceiveExactlyAsync(client, reply.Length).WaitAsync(Guard), Is.EqualTo(reply));
        }

        client.Shutdown(SocketShutdown.Send);
        server.Shutdown(SocketShutdown.Send);
        SpliceResult result = await splice.WaitAsync(Guard);
        Assert.Multiple(() =>
        {
            Assert.That(result.End, Is.EqualTo(SpliceEnd.Completed));
            Assert.That(result.BytesAToB, Is.EqualTo(3L * request.Length));
            Assert.That(result.BytesBToA, Is.EqualTo(3L * reply.Length));
            Assert.That(result.UsedKernelPath, Is.EqualTo(kernel && TcpSplicer.KernelPathAvailable));
        });
    }
}
