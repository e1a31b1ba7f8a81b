using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Mesh.Sni.ClientHello;
using Mesh.Sni.Routing;

namespace Mesh.Sni.Tests.ClientHello;

/// <summary>
/// The gateway's accept path over real loopback sockets: a real SslStream client dials, the server reads with a PipeReader,
/// parses until complete and routes by the server name without answering the handshake.
/// </summary>
public sealed class ClientHelloOverSocketTests
{
    private const string Td = "11111111-2222-3333-4444-555555555555.consul";

    private static readonly SniRouteTable<string> Routes = new(
    [
        new($"web.default.dc1.internal.{Td}", "local-web"),
        new($"*.dc2.internal.{Td}", "gateway-dc2"),
    ]);

    [TestCase("127.0.0.1", $"web.default.dc1.internal.{Td}", "local-web", SniRouteMatch.Exact)]
    [TestCase("127.0.0.1", $"counting.default.dc2.internal.{Td}", "gateway-dc2", SniRouteMatch.Wildcard)]
    [TestCase("::1", $"v2.api.team-a.dc2.internal.{Td}", "gateway-dc2", SniRouteMatch.Wildcard)]
    [TestCase("127.0.0.1", "unknown.example", null, SniRouteMatch.None)]
    public async Task A_real_client_hello_read_from_a_pipe_routes_by_its_server_name(string address, string serverName, string? route, SniRouteMatch match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var listener = new TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            Task client = DialAsync(IPAddress.Parse(address), port, serverName, timeout.Token);

            using TcpClient accepted = await listener.AcceptTcpClientAsync(timeout.Token);
            PipeReader reader = PipeReader.Create(accepted.GetStream(), new StreamPipeReaderOptions(bufferSize: 64, minimumReadSize: 32));
            int reads = 0;
            while (true)
            {
                ReadResult result = await reader.ReadAsync(timeout.Token);
                reads++;
                GatewayDecision decision = Decide(result.Buffer);
                if (decision.Status == ClientHelloParseStatus.NeedMoreData)
                {
                    Assert.That(result.IsCompleted, Is.False, "the client stopped before its hello was complete");
                    reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                    continue;
                }

                Assert.That(decision.Status, Is.EqualTo(ClientHelloParseStatus.Complete));
                Assert.That(decision.ServerName, Is.EqualTo(serverName));
                Assert.That(decision.Match, Is.EqualTo(match));
                Assert.That(decision.Route, Is.EqualTo(route));
                Assert.That(decision.Alpn, Is.EqualTo("h2,http/1.1"));
                Assert.That(decision.Consumed, Is.LessThanOrEqualTo(result.Buffer.Length));
                reader.AdvanceTo(result.Buffer.Start);
                break;
            }

            // Small pipe buffers: the hello arrived over several reads and was parsed as a multi-segment sequence.
            Assert.That(reads, Is.GreaterThan(1));
            await reader.CompleteAsync();
            accepted.Close();
            await client;
        }
        finally
        {
            listener.Stop();
        }
    }

    // The parse result is a ref struct: it lives in a synchronous helper, between two awaits.
    private static GatewayDecision Decide(ReadOnlySequence<byte> buffer)
    {
        ClientHelloParseStatus status = ClientHelloParser.Parse(buffer, out ClientHelloInfo hello);
        if (status != ClientHelloParseStatus.Complete)
        {
            return new GatewayDecision(status, null, SniRouteMatch.None, null, 0, string.Empty);
        }

        SniRouteMatch match = Routes.Lookup(hello.ServerName, out string? route);
        var alpn = new List<string>();
        foreach (ReadOnlySpan<byte> protocol in hello.AlpnProtocols)
        {
            alpn.Add(System.Text.Encoding.ASCII.GetString(protocol));
        }

        return new GatewayDecision(status, hello.GetServerNameString(), match, route, hello.BytesConsumed, string.Join(',', alpn));
    }

    private static async Task DialAsync(IPAddress address, int port, string serverName, CancellationToken cancellationToken)
    {
        using var tcp = new TcpClient(address.AddressFamily);
        await tcp.ConnectAsync(address, port, cancellationToken);
        using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                RemoteCertificateValidationCallback = static (_, _, _, _) => false,
            }, cancellationToken);
            Assert.Fail("The handshake cannot complete: the server only reads the hello.");
        }
        catch (Exception e) when (e is IOException or AuthenticationException or SocketException)
        {
            // Expected: the server closed after reading the ClientHello.
        }
    }

    private sealed record GatewayDecision(ClientHelloParseStatus Status, string? ServerName, SniRouteMatch Match, string? Route, int Consumed, string Alpn);
}
