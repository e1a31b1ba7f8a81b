using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Cryptography;
using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

/// <summary>A socket spliced with an in-process duplex pipe whose far ends an "application" in the test uses.</summary>
[TestFixture]
[NonParallelizable]
public sealed class PipeSpliceTests
{
    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    private sealed record PipeRelayed(Socket Client, PipeReader AppInput, PipeWriter AppOutput, Task<SpliceResult> Splice) : IDisposable
    {
        public Task<SpliceResult> Result => Splice.WaitAsync(Guard);

        public void Dispose() => Client.Dispose();
    }

    private static async Task<PipeRelayed> RelayAsync(long pauseThreshold = 64 * 1024, CancellationToken cancellationToken = default)
    {
        (Socket client, Socket relay) = await PairAsync();
        var toApp = new Pipe(new PipeOptions(pauseWriterThreshold: pauseThreshold, resumeWriterThreshold: pauseThreshold / 2, useSynchronizationContext: false));
        var fromApp = new Pipe(new PipeOptions(useSynchronizationContext: false));
        Task<SpliceResult> splice = new TcpSplicer().SpliceAsync(relay, new DuplexPipe(fromApp.Reader, toApp.Writer), default, null, cancellationToken);
        return new PipeRelayed(client, toApp.Reader, fromApp.Writer, splice);
    }

    private static async Task<(long Count, byte[] Hash)> ReadAllAsync(PipeReader reader)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long count = 0;
        while (true)
        {
            ReadResult result = await reader.ReadAsync();
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                hash.AppendData(segment.Span);
                count += segment.Length;
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await reader.CompleteAsync();
                return (count, hash.GetHashAndReset());
            }
        }
    }

    [Test]
    public async Task Bytes_both_ways_and_half_close_cross_a_pipe()
    {
        using PipeRelayed r = await RelayAsync();
        byte[] reply = RandomNumberGenerator.GetBytes(30_000_000);

        Task<byte[]> sending = SendRandomAsync(r.Client, 40_000_000, seed: 9);
        (long count, byte[] hash) = await ReadAllAsync(r.AppInput).WaitAsync(Guard);
        Assert.That(hash, Is.EqualTo(await sending), "the app reads everything, then the end of its input");
        Assert.That(count, Is.EqualTo(40_000_000));

        // The client has shut down its sending side; the reply still flows.
        Task<(long, byte[])> receiving = ReceiveAllAsync(r.Client);
        await r.AppOutput.WriteAsync(reply).AsTask().WaitAsync(Guard);
        await r.AppOutput.CompleteAsync();
        (long replyCount, byte[] replyHash) = await receiving.WaitAsync(Guard);
        SpliceResult result = await r.Result;
        Assert.Multiple(() =>
        {
            Assert.That(replyCount, Is.EqualTo(reply.Length));
            Assert.That(replyHash, Is.EqualTo(SHA256.HashData(reply)));
            Assert.That(result.End, Is.EqualTo(SpliceEnd.Completed));
            Assert.That(result.BytesAToB, Is.EqualTo(40_000_000));
            Assert.That(result.BytesBToA, Is.EqualTo(reply.Length));
        });
    }

    [Test]
    public async Task A_slow_pipe_reader_pauses_the_socket_writer()
    {
        const int Pause = 64 * 1024;
        using PipeRelayed r = await RelayAsync(Pause);
        r.Client.Blocking = false;
        byte[] chunk = RandomNumberGenerator.GetBytes(64 * 1024);
        long sent = 0;
        int stalledRounds = 0;
        while (stalledRounds < 20)
        {
            int n = r.Client.Send(chunk, 0, chunk.Length, SocketFlags.None, out SocketError error);
            if (error == SocketError.WouldBlock)
            {
                stalledRounds++;
                await Task.Delay(50);
                continue;
            }

            sent += n;
            stalledRounds = 0;
            Assert.That(sent, Is.LessThan(1L << 30), "the writer was never paused");
        }

        // The relay socket is owned by the splice; what it can hold is bounded by the client's send buffer, the relay's
        // receive buffer (at most tcp_rmem's maximum) and what the pipe took before pausing (threshold plus one burst).
        long rmemMax = long.Parse(File.ReadAllText("/proc/sys/net/ipv4/tcp_rmem").Split('\t', ' ')[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(sent, Is.LessThanOrEqualTo(r.Client.SendBufferSize + rmemMax + Pause + 64 * 1024 + 4096));
        Assert.That(r.Splice.IsCompleted, Is.False);

        r.Client.Blocking = true;
        r.Client.Shutdown(SocketShutdown.Send);
        (long count, _) = await ReadAllAsync(r.AppInput).WaitAsync(Guard);
        await r.AppOutput.CompleteAsync();
        Assert.That(count, Is.EqualTo(sent));
        Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.Completed));
    }

    [Test]
    public async Task An_error_from_the_pipe_resets_the_socket_and_a_reset_fails_the_pipe([Values(true, false)] bool pipeFails)
    {
        using PipeRelayed r = await RelayAsync();
        await SendAsync(r.Client, [1, 2, 3]);
        ReadResult first = await r.AppInput.ReadAsync().AsTask().WaitAsync(Guard);
        r.AppInput.AdvanceTo(first.Buffer.End);

        if (pipeFails)
        {
            await r.AppOutput.CompleteAsync(new InvalidOperationException("application failure"));
            Assert.That(await ReadToEndAsync(r.Client).WaitAsync(Guard), Is.EqualTo(SocketError.ConnectionReset));
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.ResetByB));
        }
        else
        {
            r.Client.LingerState = new LingerOption(true, 0);
            r.Client.Dispose();
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.ResetByA));
            Assert.That(async () =>
            {
                while (true)
                {
                    ReadResult result = await r.AppInput.ReadAsync();
                    r.AppInput.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        return;
                    }
                }
            }, Throws.InstanceOf<IOException>(), "the app sees a failure, not a clean end");
        }
    }

    [Test]
    public async Task Cancellation_resets_the_socket_and_fails_the_pipe()
    {
        using var cts = new CancellationTokenSource();
        using PipeRelayed r = await RelayAsync(cancellationToken: cts.Token);
        await cts.CancelAsync();
        Assert.Multiple(async () =>
        {
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.Cancelled));
            Assert.That(await ReadToEndAsync(r.Client).WaitAsync(Guard), Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(async () => await r.AppInput.ReadAsync().AsTask().WaitAsync(Guard), Throws.InstanceOf<IOException>());
        });
    }
}
