using System.Net;
using System.Net.Sockets;
using Mesh.Consul.TestAgent;
using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;
using Microsoft.Extensions.DependencyInjection;
using static Mesh.Consul.Tests.ConsulTestContext;

namespace Mesh.Consul.Tests;

/// <summary>Mesh.Host as a Consul sidecar (<c>--role sidecar --consul ADDR --sidecar-for SERVICE</c>), as a real process.</summary>
public sealed class HostRoleTests
{
    private const int RefusedExitCode = 5;

    [Test]
    public async Task A_sidecar_for_a_registered_service_becomes_ready_and_carries_a_call_to_its_app()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.DefaultIntentionPolicy = "deny";
        agent.SetIntentions([new TestIntention("dashboard", "web", "allow")]);
        using TcpListener app = EchoApp.Start();
        int appPort = EchoApp.Port(app);
        int publicPort = HostProcess.FreePort();
        RegisterWebWithSidecar(agent, appPort, publicPort);
        var health = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());

        using HostProcess sidecar = HostProcess.Start("--role", "sidecar", "--consul", agent.Address, "--sidecar-for", "web", "--health", health.ToString());
        await sidecar.WaitReadyAsync(health);

        // A Connect-native caller of the same cluster reaches the app through the sidecar's public listener.
        var services = new ServiceCollection();
        services.AddMesh(o =>
        {
            o.Service = "dashboard";
            o.Datacenter = "dc1";
            o.Upstreams.Add(new MeshUpstream { Name = "web" });
            o.UseConsul(FastOptions(agent));
        });
        await using ServiceProvider provider = services.BuildServiceProvider();
        MeshService dashboard = provider.GetRequiredService<MeshService>();
        await dashboard.StartAsync(Timeout());
        await using MeshStream call = await DialWhenListedAsync(dashboard, "web");
        await call.WriteAsync("hello"u8.ToArray(), Timeout());
        byte[] echoed = new byte[5];
        await call.ReadExactlyAsync(echoed, Timeout());

        Assert.That(echoed, Is.EqualTo("hello"u8.ToArray()), sidecar.Output);
    }

    [Test]
    public async Task A_403_from_the_agent_ends_the_sidecar_with_the_refused_code_and_the_permission_named()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        RegisterWebWithSidecar(agent, HostProcess.FreePort(), HostProcess.FreePort());
        agent.Forbid("/v1/agent/connect/ca/leaf/");

        using HostProcess sidecar = HostProcess.Start("--role", "sidecar", "--consul", agent.Address, "--sidecar-for", "web");
        int exitCode = await sidecar.WaitForExitAsync();

        Assert.That(exitCode, Is.EqualTo(RefusedExitCode), sidecar.Output);
        Assert.That(sidecar.Output, Does.Contain("service:write"));
    }

    [TestCase("--service", "web", "not as a connect-proxy")]
    [TestCase("--service", "nope", "'nope'")]
    [TestCase("--sidecar-for", "nope", "for service ID 'nope'")]
    public async Task A_sidecar_whose_registration_is_missing_or_not_a_proxy_exits_with_the_configuration_code(string option, string id, string message)
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        RegisterWebWithSidecar(agent, HostProcess.FreePort(), HostProcess.FreePort());

        using HostProcess sidecar = HostProcess.Start("--role", "sidecar", "--consul", agent.Address, option, id);
        int exitCode = await sidecar.WaitForExitAsync();

        Assert.That(exitCode, Is.EqualTo(3), sidecar.Output);
        Assert.That(sidecar.Output, Does.Contain(message));
    }

    [Test]
    public async Task A_gateway_for_a_registered_mesh_gateway_listens_on_its_LAN_and_WAN_addresses_and_becomes_ready()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        agent.OtherDatacenters.Add("dc2");
        int lan = HostProcess.FreePort();
        int wan = HostProcess.FreePort();
        agent.Register(new TestService("mesh-gateway-1", "mesh-gateway", lan)
        {
            Kind = "mesh-gateway",
            Lan = new TestAddress("127.0.0.1", lan),
            Wan = new TestAddress("127.0.0.1", wan),
        });
        var health = new IPEndPoint(IPAddress.Loopback, HostProcess.FreePort());

        using HostProcess gateway = HostProcess.Start("--role", "gateway", "--consul", agent.Address, "--service", "mesh-gateway-1", "--health", health.ToString());
        await gateway.WaitReadyAsync(health);

        using var toLan = new TcpClient();
        using var toWan = new TcpClient();
        await toLan.ConnectAsync(IPAddress.Loopback, lan);
        await toWan.ConnectAsync(IPAddress.Loopback, wan);
        Assert.That(agent.Requests.Select(static r => r.PathAndQuery), Has.Some.StartsWith("/v1/health/service/mesh-gateway?").And.Contains("dc=dc2"),
            "the gateways of the other datacenter are watched for the wildcard routes");
    }

    [TestCase(new[] { "--role", "sidecar", "--consul", "--sidecar-fro", "web" }, "did you mean --sidecar-for?")]
    [TestCase(new[] { "--role", "ca", "--consul" }, "--role ca has no --consul")]
    [TestCase(new[] { "--role", "sidecar", "--consul", "--config", "mesh.json", "--sidecar-for", "web" }, "--config and --consul are alternatives")]
    [TestCase(new[] { "--role", "sidecar", "--consul", "http://127.0.0.1:8500" }, "--sidecar-for SERVICE-ID (or --service PROXY-ID) is required")]
    [TestCase(new[] { "--role", "gateway", "--consul" }, "--service is required for the gateway role with --consul")]
    [TestCase(new[] { "--role", "sidecar", "--config", "mesh.json", "--sidecar-for", "web" }, "add --consul")]
    public async Task Consul_usage_errors_exit_with_the_usage_code_and_say_what_to_fix(string[] arguments, string message)
    {
        using HostProcess host = HostProcess.Start(arguments);
        int exitCode = await host.WaitForExitAsync();

        Assert.That(exitCode, Is.EqualTo(2), host.Output);
        Assert.That(host.Output, Does.Contain(message));
    }

    [Test]
    public async Task A_sidecar_whose_token_cannot_read_intentions_exits_refused_instead_of_denying_every_caller()
    {
        await using ConsulTestAgent agent = await ConsulTestAgent.StartAsync();
        RegisterWebWithSidecar(agent, HostProcess.FreePort(), HostProcess.FreePort());
        agent.Forbid("/v1/connect/intentions/match");

        using HostProcess sidecar = HostProcess.Start("--role", "sidecar", "--consul", agent.Address, "--sidecar-for", "web");
        int exitCode = await sidecar.WaitForExitAsync();

        Assert.That(exitCode, Is.EqualTo(RefusedExitCode), sidecar.Output);
        Assert.That(sidecar.Output, Does.Contain("intentions:read"));
    }

    private static void RegisterWebWithSidecar(ConsulTestAgent agent, int appPort, int publicPort)
    {
        agent.Register(new TestService("web", "web", appPort));
        agent.Register(new TestService("web-sidecar-proxy", "web-sidecar-proxy", publicPort)
        {
            Kind = "connect-proxy",
            Proxy = new TestProxy("web", appPort) { DestinationServiceId = "web" },
        });
    }
}
