using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

/// <summary>
/// A TLS-terminating hop: a remote TLS client ↔ (relay: SslStream server over <see cref="SocketTransportStream"/> | splice |
/// plain socket) ↔ the local application.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class TlsSpliceTests
{
    private X509Certificate2 _certificate = null!;

    [OneTimeSetUp]
    public void CreateCertificate() => _certificate = SpliceTestCertificate.Create();

    [OneTimeTearDown]
    public void DisposeCertificate() => _certificate.Dispose();

    private sealed record TlsRelayed(SslStream Remote, Socket RemoteSocket, Socket App, Task<SpliceResult> Splice) : IDisposable
    {
        public Task<SpliceResult> Result => Splice.WaitAsync(Guard);

        public void Dispose()
        {
            Remote.Dispose();
            App.Dispose();
        }
    }

    /// <param name="beforeSplice">Runs after the handshake and before the splice starts: the remote stream, the remote
    /// socket and the relay's socket towards it.</param>
    private async Task<TlsRelayed> RelayAsync(SpliceOptions? options = null, bool withTransport = true, Func<SslStream, Socket, Socket, Task>? beforeSplice = null)
    {
        (Socket remoteSocket, Socket relayTls) = await PairAsync();
        (Socket relayPlain, Socket app) = await PairAsync();
        var transport = new SocketTransportStream(relayTls);
        var relaySide = new SslStream(transport, leaveInnerStreamOpen: false);
        var remote = new SslStream(new NetworkStream(remoteSocket, ownsSocket: true), leaveInnerStreamOpen: false);
        Task server = await SpliceTestCertificate.HandshakeAsync(relaySide, remote, _certificate);
        await server;
        Assert.That(relaySide.SslProtocol, Is.EqualTo(SslProtocols.Tls13));
        if (beforeSplice is not null)
        {
            await beforeSplice(remote, remoteSocket, relayTls);
        }

        Task<SpliceResult> splice = new TcpSplicer().SpliceAsync(relayPlain, relaySide, withTransport ? transport : null, default, options);
        return new TlsRelayed(remote, remoteSocket, app, splice);
    }

    private static async Task<(long Count, byte[] Hash)> ReadAllAsync(Stream stream)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[64 * 1024];
        long count = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            count += read;
        }

        return (count, hash.GetHashAndReset());
    }

    [Test]
    public async Task Tls13_half_close_from_the_remote_reaches_the_app_and_the_reply_still_flows()
    {
        using TlsRelayed r = await RelayAsync();
        byte[] request = RandomNumberGenerator.GetBytes(500_000);
        byte[] reply = RandomNumberGenerator.GetBytes(3_000_000);

        // TLS 1.3 half-close: close_notify, then the FIN; then read the whole reply.
        await r.Remote.WriteAsync(request);
        await r.Remote.ShutdownAsync();
        r.RemoteSocket.Shutdown(SocketShutdown.Send);

        (long count, byte[] hash) = await ReceiveAllAsync(r.App).WaitAsync(Guard);
        Assert.That(count, Is.EqualTo(request.Length));
        Assert.That(hash, Is.EqualTo(SHA256.HashData(request)));

        await SendAsync(r.App, reply);
        r.App.Shutdown(SocketShutdown.Send);
        (long replyCount, byte[] replyHash) = await ReadAllAsync(r.Remote).WaitAsync(Guard);

        SpliceResult result = await r.Result;
        Assert.Multiple(() =>
        {
            Assert.That(replyCount, Is.EqualTo(reply.Length));
            Assert.That(replyHash, Is.EqualTo(SHA256.HashData(reply)));
            Assert.That(result.End, Is.EqualTo(SpliceEnd.Completed));
            Assert.That(result.BytesAToB, Is.EqualTo(reply.Length));
            Assert.That(result.BytesBToA, Is.EqualTo(request.Length));
        });
    }

    [Test]
    public async Task Half_close_from_the_app_becomes_close_notify_and_the_request_still_flows()
    {
        using TlsRelayed r = await RelayAsync();
        byte[] appData = RandomNumberGenerator.GetBytes(200_000);
        byte[] remoteData = RandomNumberGenerator.GetBytes(1_000_000);

        await SendAsync(r.App, appData);
        r.App.Shutdown(SocketShutdown.Send);
        (long count, byte[] hash) = await ReadAllAsync(r.Remote).WaitAsync(Guard);
        Assert.That(count, Is.EqualTo(appData.Length), "the remote reads to a clean end (close_notify)");
        Assert.That(hash, Is.EqualTo(SHA256.HashData(appData)));

        await r.Remote.WriteAsync(remoteData);
        await r.Remote.ShutdownAsync();
        r.RemoteSocket.Shutdown(SocketShutdown.Send);
        (long appCount, byte[] appHash) = await ReceiveAllAsync(r.App).WaitAsync(Guard);
        Assert.Multiple(async () =>
        {
            Assert.That(appCount, Is.EqualTo(remoteData.Length));
            Assert.That(appHash, Is.EqualTo(SHA256.HashData(remoteData)));
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.Completed));
        });
    }

    [Test]
    public async Task A_fin_without_close_notify_resets_the_app_by_default()
    {
        using TlsRelayed r = await RelayAsync();
        await r.Remote.WriteAsync(new byte[10_000]);
        _ = await ReceiveExactlyAsync(r.App, 10_000).WaitAsync(Guard);

        // A truncation attack looks like this: the TCP FIN arrives with no close_notify before it.
        r.RemoteSocket.Shutdown(SocketShutdown.Send);

        SocketError appSees = await ReadToEndAsync(r.App).WaitAsync(Guard);
        SpliceResult result = await r.Result;
        Assert.Multiple(() =>
        {
            Assert.That(appSees, Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(result.End, Is.EqualTo(SpliceEnd.TruncatedByB));
        });
    }

    [Test]
    public async Task A_fin_without_close_notify_is_a_half_close_when_the_policy_says_so()
    {
        using TlsRelayed r = await RelayAsync(new SpliceOptions { TruncatedTlsEnd = TruncatedTlsEndPolicy.HalfClose });
        await r.Remote.WriteAsync(new byte[10_000]);
        r.RemoteSocket.Shutdown(SocketShutdown.Send);

        (long count, _) = await ReceiveAllAsync(r.App).WaitAsync(Guard);
        await SendAsync(r.App, new byte[5_000]);
        r.App.Shutdown(SocketShutdown.Send);
        (long back, _) = await ReadAllAsync(r.Remote).WaitAsync(Guard);
        Assert.Multiple(async () =>
        {
            Assert.That(count, Is.EqualTo(10_000));
            Assert.That(back, Is.EqualTo(5_000));
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.Completed));
        });
    }

    [Test]
    public async Task A_reset_crosses_the_tls_hop_both_ways([Values(true, false)] bool remoteResets)
    {
        using TlsRelayed r = await RelayAsync();
        await r.Remote.WriteAsync(new byte[100]);
        _ = await ReceiveExactlyAsync(r.App, 100).WaitAsync(Guard);

        if (remoteResets)
        {
            r.RemoteSocket.LingerState = new LingerOption(true, 0);
            r.RemoteSocket.Dispose();
            Assert.That(await ReadToEndAsync(r.App).WaitAsync(Guard), Is.EqualTo(SocketError.ConnectionReset));
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.ResetByB));
        }
        else
        {
            r.App.LingerState = new LingerOption(true, 0);
            r.App.Dispose();
            IOException? failure = null;
            try
            {
                _ = await ReadAllAsync(r.Remote).WaitAsync(Guard);
            }
            catch (IOException e)
            {
                failure = e;
            }

            Assert.That(failure?.InnerException, Is.InstanceOf<SocketException>().With.Property(nameof(SocketException.SocketErrorCode)).EqualTo(SocketError.ConnectionReset));
            Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.ResetByA));
        }
    }

    [Test]
    public async Task A_reset_that_arrived_behind_the_last_record_is_a_reset_not_a_truncation()
    {
        // The remote sends a record and resets before the splice reads anything: the relay's socket holds the record, then
        // the reset. Once the record is forwarded, the idle wait's look at the socket must leave the reset for the read.
        using TlsRelayed r = await RelayAsync(beforeSplice: async (remote, remoteSocket, relayTls) =>
        {
            await remote.WriteAsync(new byte[100]);
            remoteSocket.LingerState = new LingerOption(true, 0);
            remoteSocket.Dispose();
            await WaitForResetAsync(relayTls).WaitAsync(Guard);
        });

        Assert.That((await ReceiveExactlyAsync(r.App, 100).WaitAsync(Guard)).Length, Is.EqualTo(100));
        Assert.That(await ReadToEndAsync(r.App).WaitAsync(Guard), Is.EqualTo(SocketError.ConnectionReset));
        Assert.That((await r.Result).End, Is.EqualTo(SpliceEnd.ResetByB));
    }

    /// <summary>Until the kernel has taken the reset on <paramref name="socket"/>: its TCP state is then CLOSE (7, tcp_info).</summary>
    private static async Task WaitForResetAsync(Socket socket)
    {
        const int IpProtoTcp = 6, TcpInfo = 11, TcpClose = 7;
        byte[] info = new byte[8];
        while (socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info) < 1 || info[0] != TcpClose)
        {
            await Task.Delay(5);
        }
    }
}
