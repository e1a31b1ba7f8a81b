using Mesh.ControlPlane.File;
using Mesh.Identity;
using NUnit.Framework;

namespace Mesh.EndToEnd.Tests.CertificateAuthority;

/// <summary>
/// A token allows exactly the identity its entry names: one service in one namespace and partition, or the mesh gateways of one
/// partition (Consul's <c>service:write</c> is per service in a namespace and partition). Each case drives the CA API over HTTP.
/// </summary>
public sealed class CaTokenScopeTests
{
    private const string DashboardToken = "dashboard-secret-7f3a";
    private const string GatewayToken = "gateway-secret-91cc";

    [Test]
    public async Task A_service_token_signs_its_own_service_in_its_namespace_and_partition()
    {
        await using CaApiServer server = await Start();
        CaAnswer answer = await server.SignAsync(DashboardToken, CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard")));
        Assert.That(answer.Status, Is.EqualTo(200), answer.ToString());
        Assert.That(server.Issued, Is.EqualTo(1));
    }

    [TestCase("/ns/payments/dc/dc1/svc/dashboard", TestName = "Service token refused for the same service in another namespace")]
    [TestCase("/ap/evil/ns/default/dc/dc1/svc/dashboard", TestName = "Service token refused for the same service in another partition")]
    [TestCase("/ap/evil/ns/payments/dc/dc1/svc/dashboard", TestName = "Service token refused for another namespace and partition")]
    [TestCase("/ns/default/dc/dc1/svc/counting", TestName = "Service token refused for another service")]
    [TestCase("/gateway/mesh/dc/dc1", TestName = "Service token refused for a mesh gateway identity")]
    [TestCase("/agent/client/dc/dc1/id/node-1", TestName = "Service token refused for a client agent identity")]
    public async Task A_service_token_is_refused_outside_its_entry(string path)
    {
        await using CaApiServer server = await Start();
        CaAnswer answer = await server.SignAsync(DashboardToken, CsrBuilder.Pem(CaApiServer.Spiffe(path)));
        Assert.That(answer.Status, Is.EqualTo(403), answer.ToString());
        Assert.That(answer.Rule, Is.EqualTo("Unauthorized"));
        Assert.That(server.Issued, Is.Zero);
    }

    [Test]
    public async Task A_mesh_gateway_token_signs_the_gateway_of_its_partition_only()
    {
        await using CaApiServer server = await Start();
        CaAnswer own = await server.SignAsync(GatewayToken, CsrBuilder.Pem(CaApiServer.Spiffe("/gateway/mesh/dc/dc1")));
        CaAnswer otherPartition = await server.SignAsync(GatewayToken, CsrBuilder.Pem(CaApiServer.Spiffe("/ap/evil/gateway/mesh/dc/dc1")));
        Assert.That(own.Status, Is.EqualTo(200), own.ToString());
        Assert.That(otherPartition.Status, Is.EqualTo(403), otherPartition.ToString());
        Assert.That(otherPartition.Rule, Is.EqualTo("Unauthorized"));
        Assert.That(server.Issued, Is.EqualTo(1));
    }

    [Test]
    public async Task A_mesh_gateway_token_never_signs_a_service_named_mesh_gateway()
    {
        await using CaApiServer server = await Start();
        CaAnswer answer = await server.SignAsync(GatewayToken, CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/mesh-gateway")));
        Assert.That(answer.Status, Is.EqualTo(403), answer.ToString());
        Assert.That(answer.Rule, Is.EqualTo("Unauthorized"));
        Assert.That(server.Issued, Is.Zero);
    }

    [Test]
    public async Task A_token_of_a_service_named_mesh_gateway_never_signs_a_gateway_identity()
    {
        await using CaApiServer server = await CaApiServer.StartAsync(
            CertificateAuthorityToken.ForService("svc-mesh-gateway-secret", new ServiceName("mesh-gateway")),
            CertificateAuthorityToken.ForMeshGateway(GatewayToken));
        CaAnswer gateway = await server.SignAsync("svc-mesh-gateway-secret", CsrBuilder.Pem(CaApiServer.Spiffe("/gateway/mesh/dc/dc1")));
        CaAnswer service = await server.SignAsync("svc-mesh-gateway-secret", CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/mesh-gateway")));
        Assert.That(gateway.Status, Is.EqualTo(403), gateway.ToString());
        Assert.That(service.Status, Is.EqualTo(200), service.ToString());
        Assert.That(server.Issued, Is.EqualTo(1));
    }

    [Test]
    public async Task A_token_for_a_namespace_and_partition_signs_that_identity_and_not_the_default_one()
    {
        await using CaApiServer server = await CaApiServer.StartAsync(
            CertificateAuthorityToken.ForService("payments-dashboard", new ServiceName("dashboard", "payments", "finance")));
        CaAnswer own = await server.SignAsync("payments-dashboard", CsrBuilder.Pem(CaApiServer.Spiffe("/ap/finance/ns/payments/dc/dc1/svc/dashboard")));
        CaAnswer defaults = await server.SignAsync("payments-dashboard", CsrBuilder.Pem(CaApiServer.Spiffe("/ns/default/dc/dc1/svc/dashboard")));
        Assert.That(own.Status, Is.EqualTo(200), own.ToString());
        Assert.That(defaults.Status, Is.EqualTo(403), defaults.ToString());
        Assert.That(server.Issued, Is.EqualTo(1));
    }

    private static Task<CaApiServer> Start() => CaApiServer.StartAsync(
        CertificateAuthorityToken.ForService(DashboardToken, new ServiceName("dashboard")),
        CertificateAuthorityToken.ForService("counting-secret", new ServiceName("counting")),
        CertificateAuthorityToken.ForMeshGateway(GatewayToken));
}
