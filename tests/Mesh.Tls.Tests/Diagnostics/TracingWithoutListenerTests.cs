using System.Net;
using System.Net.Sockets;
using Mesh.Identity;
using Mesh.Intentions;
using Mesh.Tls.Diagnostics;

namespace Mesh.Tls.Tests.Diagnostics;

/// <summary>With no tracer subscribed, what the connection paths call for tracing costs no allocation.</summary>
[NonParallelizable]
public sealed class TracingWithoutListenerTests
{
    [Test]
    public async Task Without_a_listener_the_span_calls_of_a_connection_allocate_nothing()
    {
        using var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        server.Listen();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(server.LocalEndPoint!);
        using Socket accepted = await server.AcceptAsync();
        var identity = new ServiceIdentity(new ServiceName("counting"), "dc1");
        IntentionDecision decision = default;

        RunConnectionCalls(accepted, identity, decision);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            RunConnectionCalls(accepted, identity, decision);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static void RunConnectionCalls(Socket accepted, ServiceIdentity identity, IntentionDecision decision)
    {
        var inbound = TlsActivity.StartInbound(accepted, identity);
        TlsActivity.Authorized(inbound ?? TlsActivity.CurrentInbound, identity, decision);
        TlsActivity.Failed(inbound, "local_app_unreachable", null);
        TlsActivity.HandedOff(inbound, accepted);
        var outbound = TlsActivity.StartOutbound(identity, "counting", "counting@dc2");
        TlsActivity.Failed(outbound ?? TlsActivity.CurrentOutbound, "connect_failed", null);
        TlsActivity.Failed(TlsActivity.StartSigning(), Mesh.Tls.Authority.CertificateSigningError.RateLimited, null);
    }
}
