using System.Net;
using System.Net.Sockets;
using Mesh.EndToEnd.Tests.Support;

namespace Mesh.EndToEnd.Tests;

/// <summary>
/// The real host process (samples/Mesh.Host) started the way an operator starts it: each start-up failure prints one line on
/// stderr that names the problem and exits with the code its --help documents, never a stack trace.
/// </summary>
public sealed class HostStartupTests
{
    private const int UsageError = 2;
    private const int ConfigurationError = 3;
    private const int AddressInUse = 4;
    private const int RefusedByCa = 5;
    private const int CaUnreachable = 6;

    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    private readonly List<ExternalProcess> _processes = [];
    private readonly List<Socket> _taken = [];
    private string _directory = string.Empty;
    private int _caPort;
    private int _gatewayLanPort;
    private int _gatewayWanPort;
    private int _publicPort;
    private int _upstreamPort;
    private TestApplication? _webApp;

    private string ConfigPath => Path.Combine(_directory, "mesh.json");

    [SetUp]
    public void CreateControlPlaneFile()
    {
        _directory = Directory.CreateTempSubdirectory("mesh-host-startup-").FullName;
        _caPort = MeshHostProcess.FreePort();
        _gatewayLanPort = MeshHostProcess.FreePort();
        _gatewayWanPort = MeshHostProcess.FreePort();
        _publicPort = MeshHostProcess.FreePort();
        _upstreamPort = MeshHostProcess.FreePort();
        _webApp = TestApplication.Start();  // web's app is up: its sidecar's readiness includes the app's check
        File.WriteAllText(ConfigPath, $$"""
            {
              "TrustDomain": "11111111-2222-3333-4444-555555555555.consul",
              "CA": { "Address": "http://127.0.0.1:{{_caPort}}", "Tokens": [ { "Service": "web", "Token": "web-token" }, { "Service": "api", "Token": "api-token" } ] },
              "Datacenters": [
                { "Name": "dc1", "MeshGateways": [ { "LanAddress": "127.0.0.1:{{_gatewayLanPort}}", "WanAddress": "127.0.0.1:{{_gatewayWanPort}}" } ] }
              ],
              "Services": [
                {
                  "ID": "web-1", "Name": "web", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": {{_webApp.EndPoint.Port}},
                  "Connect": { "SidecarService": { "Address": "127.0.0.1", "Port": {{_publicPort}}, "Proxy": { "Upstreams": [
                    { "DestinationName": "api", "Datacenter": "dc1", "LocalBindAddress": "127.0.0.1", "LocalBindPort": {{_upstreamPort}} }
                  ] } } }
                },
                {
                  "ID": "api-1", "Name": "api", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": {{MeshHostProcess.FreePort()}},
                  "Connect": { "SidecarService": { "Address": "127.0.0.1", "Port": {{MeshHostProcess.FreePort()}} } }
                }
              ]
            }
            """);
    }

    [TearDown]
    public async Task StopEverything()
    {
        foreach (ExternalProcess process in _processes)
        {
            process.Dispose();
        }

        if (_webApp is not null)
        {
            await _webApp.DisposeAsync();
        }

        foreach (Socket socket in _taken)
        {
            socket.Dispose();
        }

        _processes.Clear();
        _taken.Clear();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task A_gateway_whose_listen_address_is_taken_names_the_address_and_exits_with_the_address_code()
    {
        Take(_gatewayLanPort);
        ExternalProcess host = StartHost("--role", "gateway", "--config", ConfigPath, "--datacenter", "dc1");
        await AssertFailsAsync(host, AddressInUse, $"127.0.0.1:{_gatewayLanPort}", "gateway");
    }

    [Test]
    public async Task A_health_address_that_is_taken_is_named_as_the_health_endpoint()
    {
        int health = MeshHostProcess.FreePort();
        Take(health);
        ExternalProcess host = StartHost("--role", "gateway", "--config", ConfigPath, "--datacenter", "dc1", "--health", $"127.0.0.1:{health}");
        await AssertFailsAsync(host, AddressInUse, $"127.0.0.1:{health}", "health");
    }

    [Test]
    public async Task A_ca_whose_address_is_taken_names_the_address_and_the_ca()
    {
        Take(_caPort);
        ExternalProcess host = StartHost("--role", "ca", "--config", ConfigPath, "--data-dir", Path.Combine(_directory, "ca"));
        await AssertFailsAsync(host, AddressInUse, $"127.0.0.1:{_caPort}", "CA");
    }

    [Test]
    public async Task A_sidecar_whose_public_listener_is_taken_names_the_address_and_the_public_listener()
    {
        await StartCaAsync();
        Take(_publicPort);
        ExternalProcess host = StartHost("--role", "sidecar", "--config", ConfigPath, "--service", "web-1", "--token", "web-token");
        await AssertFailsAsync(host, AddressInUse, $"127.0.0.1:{_publicPort}", "public listener");
    }

    [Test]
    public async Task A_sidecar_whose_upstream_listener_is_taken_names_the_address_and_the_upstream()
    {
        await StartCaAsync();
        Take(_upstreamPort);
        ExternalProcess host = StartHost("--role", "sidecar", "--config", ConfigPath, "--service", "web-1", "--token", "web-token");
        await AssertFailsAsync(host, AddressInUse, $"127.0.0.1:{_upstreamPort}", "upstream listener", "api");
    }

    [Test]
    public async Task A_datacenter_not_in_the_file_is_a_configuration_error()
    {
        ExternalProcess host = StartHost("--role", "gateway", "--config", ConfigPath, "--datacenter", "dc9");
        await AssertFailsAsync(host, ConfigurationError, "'dc9'");
    }

    [Test]
    public async Task With_verbose_a_start_up_failure_also_shows_its_stack_trace()
    {
        ExternalProcess host = StartHost("--role", "gateway", "--config", ConfigPath, "--datacenter", "dc9", "--verbose");
        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.EqualTo(ConfigurationError), host.Output);
        Assert.That(host.ErrorOutput, Does.StartWith("Mesh.Host: ").And.Contain("'dc9'").And.Match(@"(?m)^\s+at \S+\("));
    }

    [Test]
    public async Task A_service_not_in_the_file_is_a_configuration_error()
    {
        ExternalProcess host = StartHost("--role", "sidecar", "--config", ConfigPath, "--service", "billing-1", "--token", "t");
        await AssertFailsAsync(host, ConfigurationError, "'billing-1'");
    }

    [Test]
    public async Task A_sidecar_without_a_token_says_how_to_pass_one()
    {
        ExternalProcess host = StartHost("--role", "sidecar", "--config", ConfigPath, "--service", "web-1");
        await AssertFailsAsync(host, ConfigurationError, "--token", "MESH_TOKEN");
    }

    [Test]
    public async Task A_malformed_control_plane_file_is_a_configuration_error_naming_the_file()
    {
        File.WriteAllText(ConfigPath, "{ \"TrustDomain\": ");
        ExternalProcess host = StartHost("--role", "gateway", "--config", ConfigPath, "--datacenter", "dc1");
        await AssertFailsAsync(host, ConfigurationError, ConfigPath);
    }

    [Test]
    public async Task A_missing_control_plane_file_is_a_configuration_error_naming_the_file()
    {
        string missing = Path.Combine(_directory, "absent.json");
        ExternalProcess host = StartHost("--role", "gateway", "--config", missing, "--datacenter", "dc1");
        await AssertFailsAsync(host, ConfigurationError, missing);
    }

    [Test]
    public async Task A_token_the_ca_refuses_fails_start_up_with_the_refusal_code()
    {
        await StartCaAsync();
        ExternalProcess host = StartHost("--role", "sidecar", "--config", ConfigPath, "--service", "web-1", "--token", "wrong-token");
        await AssertFailsAsync(host, RefusedByCa, "refused");
    }

    [Test]
    public async Task A_sidecar_whose_ca_stays_unreachable_gives_up_after_its_wait_naming_the_ca()
    {
        ExternalProcess host = StartHost("--role", "sidecar", "--config", ConfigPath, "--service", "web-1", "--token", "web-token", "--ca-wait", "2");
        await AssertFailsAsync(host, CaUnreachable, $"127.0.0.1:{_caPort}", "--ca-wait");
    }

    [Test]
    public async Task A_sidecar_started_while_the_ca_is_down_keeps_running_and_becomes_ready_once_the_ca_starts()
    {
        int health = MeshHostProcess.FreePort();
        ExternalProcess sidecar = StartHost("--role", "sidecar", "--config", ConfigPath, "--service", "web-1", "--token", "web-token", "--health", $"127.0.0.1:{health}");
        Assert.That(await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(3)), Is.Null, $"the sidecar exited while the CA was down:\n{sidecar.Output}");

        await StartCaAsync();
        Assert.That(await WaitUntilReadyAsync($"http://127.0.0.1:{health}/health/ready", sidecar), Is.True,
            $"the sidecar did not become ready after the CA started:\n{sidecar.Output}");
    }

    [TestCase("--heath", "--health")]
    [TestCase("--confg", "--config")]
    [TestCase("--datacentre", "--datacenter")]
    public async Task An_unknown_option_is_a_usage_error_with_a_suggestion(string typo, string meant)
    {
        ExternalProcess host = StartHost("--role", "gateway", "--config", ConfigPath, "--datacenter", "dc1", typo, "127.0.0.1:0");
        await AssertFailsAsync(host, UsageError, $"'{typo}'", $"did you mean {meant}?");
    }

    [Test]
    public async Task Health_without_a_value_is_a_usage_error()
    {
        ExternalProcess host = StartHost("--role", "gateway", "--config", ConfigPath, "--datacenter", "dc1", "--health");
        await AssertFailsAsync(host, UsageError, "--health", "IP:PORT");
    }

    [Test]
    public async Task Health_without_a_port_is_a_usage_error()
    {
        ExternalProcess host = StartHost("--role", "gateway", "--config", ConfigPath, "--datacenter", "dc1", "--health", "127.0.0.1");
        await AssertFailsAsync(host, UsageError, "--health", "IP:PORT");
    }

    [Test]
    public async Task Help_documents_every_exit_code()
    {
        ExternalProcess host = StartHost("--help");
        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.Zero);
        Assert.That(host.Output, Does.Contain("--data-dir").And.Contain("--verbose"));
        foreach (int code in new[] { UsageError, ConfigurationError, AddressInUse, RefusedByCa, CaUnreachable })
        {
            Assert.That(host.Output, Does.Match($@"(?m)^\s+{code}\s+\S"), $"--help does not document exit code {code}");
        }
    }

    private ExternalProcess StartHost(params string[] arguments)
    {
        var environment = new Dictionary<string, string?> { ["MESH_TOKEN"] = null, ["MESH_LOG_FORMAT"] = null };
        ExternalProcess process = MeshHostProcess.Start(environment, arguments);
        _processes.Add(process);
        return process;
    }

    private async Task StartCaAsync()
    {
        ExternalProcess ca = StartHost("--role", "ca", "--config", ConfigPath, "--data-dir", Path.Combine(_directory, "ca"));
        Assert.That(await WaitUntilReadyAsync($"http://127.0.0.1:{_caPort}/health/ready", ca), Is.True, $"the CA did not start:\n{ca.Output}");
    }

    private static async Task<bool> WaitUntilReadyAsync(string url, ExternalProcess process)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!deadline.IsCancellationRequested && !process.HasExited)
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri(url), deadline.Token);
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100, CancellationToken.None);
        }

        return false;
    }

    private static async Task AssertFailsAsync(ExternalProcess host, int exitCode, params string[] mentions)
    {
        int? exited = await host.WaitForExitAsync(ExitTimeout);
        string[] errorLines = host.ErrorOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(exited, Is.EqualTo(exitCode), $"exit code; the host wrote:\n{host.Output}");
            Assert.That(errorLines, Has.Length.EqualTo(1), $"one line on stderr; the host wrote:\n{host.Output}");
            foreach (string mention in mentions)
            {
                Assert.That(host.ErrorOutput, Does.Contain(mention), $"stderr names '{mention}'");
            }

            Assert.That(host.Output, Does.Not.Contain("Unhandled exception").And.Not.Match(@"(?m)^\s+at \S+\("), "no stack trace");
        }
    }

    /// <summary>Holds an address as another program would: bound and listening.</summary>
    private void Take(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        socket.Listen();
        _taken.Add(socket);
    }
}
