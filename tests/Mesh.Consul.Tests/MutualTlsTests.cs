using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Mesh.Consul.TestAgent;
using Mesh.ControlPlane;
using Mesh.Tls.MutualTls;
using Mesh.Tls.Validation;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

public sealed class MutualTlsTests
{
    [Test]
    public async Task Leaves_and_roots_from_the_agent_carry_a_real_mutual_TLS_handshake()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        await using var controlPlane = new ConsulControlPlane(FastOptions(agent));
        await controlPlane.WaitUntilReadyAsync("web", Timeout());
        await controlPlane.WaitUntilReadyAsync("api", Timeout());
        var validator = new SvidValidator(controlPlane.TrustBundle);
        var web = new MeshTlsFactory(controlPlane.GetLeafSource("web"), validator);
        var api = new MeshTlsFactory(controlPlane.GetLeafSource("api"), validator);
        LeafCertificate apiLeaf = controlPlane.GetLeafSource("api").Current!;

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        Task connect = client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using TcpClient accepted = await listener.AcceptTcpClientAsync();
        await connect;
        await using var serverStream = new SslStream(accepted.GetStream());
        await using var clientStream = new SslStream(client.GetStream());

        ValueTask<SvidValidationResult> server = api.AuthenticateAsServerAsync(serverStream, PeerAuthorizer.InTrustDomain(agent.TrustDomain), Timeout());
        SvidValidationResult seenByClient = await web.AuthenticateAsClientAsync(clientStream, $"api.default.dc1.internal.{agent.TrustDomain.Name}", PeerAuthorizer.Exact(apiLeaf.Id), Timeout());
        SvidValidationResult seenByServer = await server;

        Assert.That((seenByClient.IsValid, seenByServer.IsValid), Is.EqualTo((true, true)));
        Assert.That(seenByClient.PeerId, Is.EqualTo(apiLeaf.Id));
        Assert.That(seenByServer.PeerId.ToString(), Does.EndWith("/svc/web"));
    }
}
