using System.Net;
using System.Text;
using Mesh.ControlPlane;
using Mesh.ControlPlane.File;
using Mesh.Identity;

namespace Mesh.Core.Tests.ControlPlane;

public sealed class ControlPlaneFileTests
{
    internal const string TwoDatacenters = """
        {
          "TrustDomain": "11111111-2222-3333-4444-555555555555.consul",
          "CA": { "Address": "http://127.0.0.1:8501", "Tokens": [{ "Token": "t1", "Service": "dashboard" }, { "Token": "t2", "Service": "counting" }] },
          "Datacenters": [
            { "Name": "dc1", "MeshGateways": [ { "LanAddress": "127.0.1.10:8443", "WanAddress": "127.0.1.10:9443" } ] },
            { "Name": "dc2", "MeshGateways": [ { "LanAddress": "127.0.2.10:8443", "WanAddress": "127.0.2.10:9443" } ] }
          ],
          "Services": [
            { "ID": "dashboard-1", "Name": "dashboard", "Datacenter": "dc1", "Address": "127.0.1.20", "Port": 9002,
              "Connect": { "SidecarService": { "Address": "127.0.1.21", "Port": 21000, "Proxy": { "Upstreams": [
                { "DestinationName": "counting", "Datacenter": "dc2", "LocalBindPort": 9001 } ] } } } },
            { "ID": "counting-1", "Name": "counting", "Datacenter": "dc2", "Address": "127.0.2.20", "Port": 9003,
              "Connect": { "SidecarService": { "Address": "127.0.2.21", "Port": 21000 } } },
            { "ID": "counting-2", "Name": "counting", "Datacenter": "dc2", "Address": "127.0.2.30", "Port": 9003, "Status": "critical",
              "Connect": { "SidecarService": { "Port": 21000 } } }
          ],
          "Intentions": [ { "Kind": "service-intentions", "Name": "counting", "Sources": [ { "Name": "dashboard", "Action": "allow" } ] } ]
        }
        """;

    [Test]
    public void A_two_datacenter_file_gives_services_upstreams_gateways_and_healthy_endpoints()
    {
        using var file = Write(TwoDatacenters, out string path);
        using ControlPlaneFile controlPlane = ControlPlaneFile.Open(path, TimeSpan.Zero);
        ControlPlaneConfiguration config = controlPlane.Configuration;
        ServiceDefinition dashboard = config.FindService("dashboard")!;

        Assert.Multiple(() =>
        {
            Assert.That(config.TrustDomain.Name, Is.EqualTo("11111111-2222-3333-4444-555555555555.consul"));
            Assert.That(config.CertificateAuthorityAddress, Is.EqualTo(new Uri("http://127.0.0.1:8501")));
            Assert.That(config.FindServiceToken(new ServiceName("counting"))?.Token, Is.EqualTo("t2"));
            Assert.That(config.Intentions.DefaultAction, Is.EqualTo(Mesh.Intentions.IntentionAction.Deny), "Mesh's default intention policy is deny");
            Assert.That(dashboard.MeshAddress, Is.EqualTo(IPEndPoint.Parse("127.0.1.21:21000")));
            Assert.That(dashboard.ApplicationAddress, Is.EqualTo(IPEndPoint.Parse("127.0.1.20:9002")));
            Assert.That(dashboard.Upstreams.Single().Destination, Is.EqualTo(new ServiceName("counting")));
            Assert.That(dashboard.Upstreams.Single().Datacenter, Is.EqualTo("dc2"));
            Assert.That(dashboard.Upstreams.Single().LocalBindAddress, Is.EqualTo(IPEndPoint.Parse("127.0.0.1:9001")), "upstreams bind 127.0.0.1 by default");
            Assert.That(controlPlane.GetHealthyEndpoints(new ServiceName("counting"), "dc2").Select(e => e.Address.ToString()),
                Is.EqualTo(new[] { "127.0.2.21:21000" }), "the critical instance receives no traffic");
            Assert.That(controlPlane.GetMeshGateways("dc2").Single().WanAddress, Is.EqualTo(IPEndPoint.Parse("127.0.2.10:9443")));
            Assert.That(config.Intentions.Count, Is.EqualTo(1));
            Assert.That(((IIntentionSource)controlPlane).Current.Decide(new ServiceName("dashboard"), new ServiceName("counting")).IsAllowed, Is.True);
            Assert.That(((IIntentionSource)controlPlane).Current.Decide(new ServiceName("other"), new ServiceName("counting")).IsAllowed, Is.False);
        });
    }

    [TestCase("\"TrustDomain\": \"11111111-2222-3333-4444-555555555555.consul\"", "\"TrustDomain\": \"Bad_Domain\"", "TrustDomain")]
    [TestCase("\"LocalBindPort\": 9001", "\"LocalBindPort\": 0", "Services[0].Connect.SidecarService.Proxy.Upstreams[0].LocalBindPort")]
    [TestCase("\"Name\": \"counting\", \"Datacenter\": \"dc2\", \"Address\": \"127.0.2.20\"", "\"Name\": \"count.ing\", \"Datacenter\": \"dc2\", \"Address\": \"127.0.2.20\"", "Services[1].Name")]
    [TestCase("\"Address\": \"127.0.2.20\"", "\"Address\": \"not-an-ip\"", "Services[1].Address")]
    [TestCase("\"Datacenter\": \"dc2\", \"Address\": \"127.0.2.20\"", "\"Datacenter\": \"dc9\", \"Address\": \"127.0.2.20\"", "Services[1].Datacenter")]
    [TestCase("\"ID\": \"counting-2\"", "\"ID\": \"counting-1\"", "Services[2].ID")]
    [TestCase("\"Status\": \"critical\"", "\"Status\": \"sick\"", "Services[2].Status")]
    [TestCase("\"LanAddress\": \"127.0.1.10:8443\"", "\"LanAddress\": \"127.0.1.10\"", "Datacenters[0].MeshGateways[0].LanAddress")]
    [TestCase("\"Action\": \"allow\"", "\"Action\": \"maybe\"", "Intentions")]
    [TestCase("\"Port\": 9003, \"Status\"", "\"Port\": 9003, \"Colour\": \"blue\", \"Status\"", "$.Services[2].Colour")]
    public void An_invalid_field_fails_at_start_naming_the_field(string find, string replace, string field)
    {
        string json = TwoDatacenters.Replace(find, replace, StringComparison.Ordinal);
        Assert.That(json, Is.Not.EqualTo(TwoDatacenters), "the test edit applies");
        using var file = Write(json, out string path);

        var ex = Assert.Throws<ControlPlaneFileException>(() => ControlPlaneFile.Open(path, TimeSpan.Zero));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Field, Does.Contain(field));
            Assert.That(ex.Message, Does.Contain(path));
        });
    }

    [Test]
    public void Malformed_json_names_the_position()
    {
        using var file = Write("{ \"TrustDomain\": ", out string path);
        var ex = Assert.Throws<ControlPlaneFileException>(() => ControlPlaneFile.Open(path, TimeSpan.Zero));
        Assert.That(ex!.Message, Does.Contain("invalid JSON"));
    }

    [Test]
    public void A_changed_file_is_swapped_in_and_an_invalid_change_keeps_the_previous_configuration()
    {
        using var file = Write(TwoDatacenters, out string path);
        using ControlPlaneFile controlPlane = ControlPlaneFile.Open(path, TimeSpan.Zero);
        var catalogToken = controlPlane.GetChangeToken();
        var intentionToken = ((IIntentionSource)controlPlane).GetChangeToken();

        System.IO.File.WriteAllText(path, TwoDatacenters.Replace("\"Status\": \"critical\"", "\"Status\": \"passing\"", StringComparison.Ordinal));
        Touch(path, 1);
        Assert.That(controlPlane.ReloadIfChanged(), Is.True);
        Assert.That(catalogToken.HasChanged, Is.True);
        Assert.That(intentionToken.HasChanged, Is.True);
        Assert.That(controlPlane.GetHealthyEndpoints(new ServiceName("counting"), "dc2"), Has.Count.EqualTo(2));

        System.IO.File.WriteAllText(path, "{ not json");
        Touch(path, 2);
        Assert.That(controlPlane.ReloadIfChanged(), Is.False);
        Assert.That(controlPlane.GetHealthyEndpoints(new ServiceName("counting"), "dc2"), Has.Count.EqualTo(2), "the previous configuration stays");
    }

    private static void Touch(string path, int seconds) => System.IO.File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddSeconds(seconds));

    private static TempFile Write(string json, out string path)
    {
        var file = new TempFile();
        System.IO.File.WriteAllText(file.Path, json, Encoding.UTF8);
        path = file.Path;
        return file;
    }

    private sealed class TempFile : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"mesh-cp-{Guid.NewGuid():N}.json");

        public void Dispose() => System.IO.File.Delete(Path);
    }
}
