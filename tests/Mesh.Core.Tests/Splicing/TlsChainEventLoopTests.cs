using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Mesh.Splicing;
using static Mesh.Core.Tests.Splicing.SpliceHarness;

namespace Mesh.Core.Tests.Splicing;

/// <summary>
/// A sidecar-to-sidecar call in one process, with idle sources waiting on the event loop: a client ↔ (outbound hop: socket |
/// splice | TLS client) ↔ (inbound hop: TLS server | splice | socket) ↔ an echo application. The client sends its request and
/// its FIN at once, as a caller that does not wait for the mesh does, and reads the echo to the end.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class TlsChainEventLoopTests
{
    private const int Callers = 4;
    private const int Calls = 150;
    private X509Certificate2 _certificate = null!;

    [OneTimeSetUp]
    public void CreateCertificate() => _certificate = SpliceTestCertificate.Create();

    [OneTimeTearDown]
    public void DisposeCertificate() => _certificate.Dispose();

    [Test]
    public async Task Short_calls_through_two_tls_hops_get_their_echo_and_a_clean_end([Values(false, true)] bool eventLoop)
    {
        var options = new SpliceOptions { UseEventLoop = eventLoop };
        var splicer = new TcpSplicer();
        var failures = new List<string>();

        // Callers in parallel, as a sidecar serves them: the hops' two directions then run on different threads.
        await Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            for (int i = 0; i < Calls; i++)
            {
                string message = $"call{caller}.{i}";
                (string reply, SpliceResult outbound, SpliceResult inbound) = await CallAsync(splicer, options, message).WaitAsync(Guard);
                if (reply != message || outbound.End != SpliceEnd.Completed || inbound.End != SpliceEnd.Completed)
                {
                    lock (failures)
                    {
                        failures.Add($"{message}: got \"{reply}\", outbound {outbound.End} ({outbound.Error?.Message}), inbound {inbound.End} ({inbound.Error?.Message})");
                    }
                }
            }
        })));

        Assert.That(failures, Is.Empty);
    }

    private async Task<(string Reply, SpliceResult Outbound, SpliceResult Inbound)> CallAsync(TcpSplicer splicer, SpliceOptions options, string message)
    {
        (Socket client, Socket outboundPlain) = await PairAsync();
        (Socket outboundTls, Socket inboundTls) = await PairAsync();
        (Socket inboundPlain, Socket app) = await PairAsync();
        using (client)
        using (app)
        {
            // The caller sends and half-closes before the outbound hop has its TLS connection.
            await SendAsync(client, Encoding.ASCII.GetBytes(message));
            client.Shutdown(SocketShutdown.Send);
            Task echo = EchoAsync(app);

            var outboundTransport = new SocketTransportStream(outboundTls);
            var inboundTransport = new SocketTransportStream(inboundTls);
            var outboundStream = new SslStream(outboundTransport, leaveInnerStreamOpen: false);
            var inboundStream = new SslStream(inboundTransport, leaveInnerStreamOpen: false);
            Task server = await SpliceTestCertificate.HandshakeAsync(inboundStream, outboundStream, _certificate);
            Task<SpliceResult> outbound = splicer.SpliceAsync(outboundPlain, outboundStream, outboundTransport, default, options);
            await server;
            Task<SpliceResult> inbound = splicer.SpliceAsync(inboundPlain, inboundStream, inboundTransport, default, options);

            string reply;
            try
            {
                byte[] buffer = new byte[1024];
                using var received = new MemoryStream();
                int read;
                while ((read = await client.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                {
                    received.Write(buffer, 0, read);
                }

                reply = Encoding.ASCII.GetString(received.ToArray());
            }
            catch (SocketException e)
            {
                reply = "(" + e.SocketErrorCode + ")";
            }

            await echo;
            return (reply, await outbound, await inbound);
        }
    }

    private static async Task EchoAsync(Socket app)
    {
        byte[] buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await app.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await SendAsync(app, buffer[..read]);
            }

            app.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The call failed; the caller reports how.
        }
    }
}
