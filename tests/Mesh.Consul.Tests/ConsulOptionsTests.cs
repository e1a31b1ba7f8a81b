using Mesh.Consul.Client;
using Mesh.Tls.InProcess;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Mesh.Consul.Tests;

public sealed class ConsulOptionsTests
{
    [Test]
    public void FromEnvironment_reads_Consul_variables()
    {
        var variables = new Dictionary<string, string>
        {
            ["CONSUL_HTTP_ADDR"] = "10.0.0.5:8501",
            ["CONSUL_HTTP_SSL"] = "true",
            ["CONSUL_HTTP_TOKEN"] = "t0k3n",
            ["CONSUL_HTTP_TOKEN_FILE"] = "/run/consul/token",
            ["CONSUL_CACERT"] = "/etc/consul/ca.pem",
            ["CONSUL_CLIENT_CERT"] = "/etc/consul/client.pem",
            ["CONSUL_CLIENT_KEY"] = "/etc/consul/client-key.pem",
            ["CONSUL_NAMESPACE"] = "team-a",
            ["CONSUL_PARTITION"] = "part-1",
        };

        ConsulOptions options = ConsulOptions.FromEnvironment(name => variables.GetValueOrDefault(name));

        Assert.Multiple(() =>
        {
            Assert.That(options.Address, Is.EqualTo("https://10.0.0.5:8501"));
            Assert.That(options.Token, Is.EqualTo("t0k3n"));
            Assert.That(options.TokenFile, Is.EqualTo("/run/consul/token"));
            Assert.That(options.CaCertificateFile, Is.EqualTo("/etc/consul/ca.pem"));
            Assert.That(options.ClientCertificateFile, Is.EqualTo("/etc/consul/client.pem"));
            Assert.That(options.ClientKeyFile, Is.EqualTo("/etc/consul/client-key.pem"));
            Assert.That(options.Namespace, Is.EqualTo("team-a"));
            Assert.That(options.Partition, Is.EqualTo("part-1"));
        });
    }

    [Test]
    public void FromEnvironment_without_variables_uses_the_local_agent()
    {
        ConsulOptions options = ConsulOptions.FromEnvironment(_ => null);

        Assert.That(options.Address, Is.EqualTo("http://127.0.0.1:8500"));
        Assert.That(options.Token, Is.Null);
    }

    [TestCase("127.0.0.1:8500", "http://127.0.0.1:8500/", null)]
    [TestCase("http://127.0.0.1:8500", "http://127.0.0.1:8500/", null)]
    [TestCase("https://consul.local:8501", "https://consul.local:8501/", null)]
    [TestCase("unix:///var/run/consul.sock", "http://localhost/", "/var/run/consul.sock")]
    public void Agent_address_accepts_the_forms_of_CONSUL_HTTP_ADDR(string address, string baseUri, string? socket)
    {
        ConsulAgentAddress parsed = ConsulAgentAddress.Parse(address);

        Assert.That(parsed.BaseUri.ToString(), Is.EqualTo(baseUri));
        Assert.That(parsed.UnixSocketPath, Is.EqualTo(socket));
    }

    [TestCase("ftp://127.0.0.1:8500")]
    [TestCase("unix://")]
    [TestCase("")]
    public void Malformed_agent_address_is_a_clear_error(string address)
    {
        var exception = Assert.Throws<ArgumentException>(() => ConsulAgentAddress.Parse(address));

        Assert.That(exception!.Message, Does.Contain("CONSUL_HTTP_ADDR").Or.Contain("unix:///"));
    }

    [Test]
    public void A_wait_beyond_Consuls_maximum_is_refused_with_the_limit()
    {
        var exception = Assert.Throws<OptionsValidationException>(() => new ConsulAgentClient(new ConsulOptions { WaitTime = TimeSpan.FromMinutes(11) }));

        Assert.That(exception!.Message, Does.Contain("ConsulOptions.WaitTime").And.Contain("10 minutes"));
    }

    [Test]
    public void A_zero_request_timeout_is_refused()
    {
        var exception = Assert.Throws<OptionsValidationException>(() => new ConsulAgentClient(new ConsulOptions { RequestTimeout = TimeSpan.Zero }));

        Assert.That(exception!.Message, Does.Contain("ConsulOptions.RequestTimeout"));
    }

    [Test]
    public void Invalid_consul_options_fail_the_host_start_with_the_messages_the_client_gives()
    {
        static ConsulOptions Misconfigured() => new() { Address = "ftp://127.0.0.1:8500", WaitTime = TimeSpan.FromMinutes(11), ClientCertificateFile = "/etc/consul/client.pem" };
        var services = new ServiceCollection();
        services.AddMesh(o =>
        {
            o.Service = "api";
            o.Datacenter = "dc1";
            o.UseConsul(Misconfigured());
        });
        using ServiceProvider provider = services.BuildServiceProvider();

        OptionsValidationException? atStart = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        OptionsValidationException? atConstruction = Assert.Throws<OptionsValidationException>(() => new ConsulAgentClient(Misconfigured()).Dispose());

        Assert.That(atConstruction!.Failures, Has.Some.StartsWith("ConsulOptions.Address: The Consul agent address 'ftp://127.0.0.1:8500'")
            .And.Some.StartsWith("ConsulOptions.WaitTime is 00:11:00")
            .And.Some.StartsWith("ConsulOptions.ClientCertificateFile (CONSUL_CLIENT_CERT) is set without ClientKeyFile"));
        Assert.That(atStart!.Failures, Is.EqualTo(atConstruction.Failures));
    }

    [Test]
    public void Missing_token_file_is_a_clear_error()
    {
        var exception = Assert.Throws<IOException>(() => new ConsulAgentClient(new ConsulOptions { TokenFile = "/nonexistent/consul-token" }));

        Assert.That(exception!.Message, Does.Contain("CONSUL_HTTP_TOKEN_FILE").And.Contain("/nonexistent/consul-token"));
    }
}
