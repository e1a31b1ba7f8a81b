using System.Net;
using System.Text;
using Mesh.ControlPlane.File;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>Consul's TCP check in a service definition of the control-plane file: what the sidecar checks of its application.</summary>
public sealed class AppCheckDefinitionTests
{
    private static ControlPlaneConfiguration Parse(string check) => ControlPlaneConfiguration.Parse(Encoding.UTF8.GetBytes($$"""
        {
          "TrustDomain": "11111111-2222-3333-4444-555555555555.consul",
          "Services": [
            { "ID": "counting-a", "Name": "counting", "Datacenter": "dc1", "Address": "127.0.0.1", "Port": 9003,
              "Connect": { "SidecarService": { "Port": 21000 } } {{check}} }
          ]
        }
        """), "mesh.json");

    [Test]
    public void A_tcp_check_gives_the_address_interval_and_timeout()
    {
        ServiceDefinition service = Parse(""", "Check": { "TCP": "127.0.0.1:9004", "Interval": "1m30s", "Timeout": "500ms" }""").Services[0];
        Assert.Multiple(() =>
        {
            Assert.That(service.CheckAddress, Is.EqualTo(new IPEndPoint(IPAddress.Loopback, 9004)));
            Assert.That(service.CheckInterval, Is.EqualTo(TimeSpan.FromSeconds(90)));
            Assert.That(service.CheckTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
        });
    }

    [Test]
    public void Without_a_check_the_sidecar_checks_the_application_address_and_a_timeout_defaults_to_consuls()
    {
        Assert.That(Parse("").Services[0].CheckAddress, Is.Null);
        Assert.That(Parse(""", "Check": { "TCP": "127.0.0.1:9003", "Interval": "10s" }""").Services[0].CheckTimeout, Is.EqualTo(TimeSpan.FromSeconds(10)));
    }

    [TestCase("""{ "TCP": "localhost:9003", "Interval": "10s" }""", "Check.TCP")]
    [TestCase("""{ "TCP": "127.0.0.1", "Interval": "10s" }""", "Check.TCP")]
    [TestCase("""{ "HTTP": "http://127.0.0.1:9003/health", "Interval": "10s" }""", "HTTP")]
    [TestCase("""{ "TCP": "127.0.0.1:9003" }""", "Check.Interval")]
    [TestCase("""{ "TCP": "127.0.0.1:9003", "Interval": "10" }""", "Check.Interval")]
    [TestCase("""{ "TCP": "127.0.0.1:9003", "Interval": "10 seconds" }""", "Check.Interval")]
    [TestCase("""{ "TCP": "127.0.0.1:9003", "Interval": "0s" }""", "Check.Interval")]
    [TestCase("""{ "TCP": "127.0.0.1:9003", "Interval": "999999h" }""", "Check.Interval")]
    [TestCase("""{ "TCP": "127.0.0.1:9003", "Interval": "10s", "Timeout": "-1s" }""", "Check.Timeout")]
    public void A_check_that_cannot_run_is_refused_with_its_field_named(string check, string field)
    {
        var error = Assert.Throws<ControlPlaneFileException>(() => Parse(", \"Check\": " + check));
        Assert.That(error!.Field + " " + error.Message, Does.Contain(field));
    }
}
