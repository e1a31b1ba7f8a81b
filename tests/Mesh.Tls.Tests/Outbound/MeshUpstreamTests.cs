using System.Net;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;
using Mesh.Tls.Sidecar;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.Tests.Outbound;

/// <summary>One upstream model with one set of rules, whether an in-process service dials it or a sidecar listens for it.</summary>
public sealed class MeshUpstreamTests
{
    private static readonly ServiceIdentity Web = new(new ServiceName("web", "team-a"), "dc1");

    [Test]
    public void A_bad_name_part_is_refused_with_the_same_rule_by_the_in_process_options_and_the_sidecar_options()
    {
        var upstream = new MeshUpstream { Name = "counting", Datacenter = "dc.2", LocalBindAddress = IPEndPoint.Parse("127.0.0.1:9001") };
        var meshOptions = new MeshOptions { Service = "web", Datacenter = "dc1", TrustDomain = "example.consul", ControlPlaneFile = "mesh.json" };
        meshOptions.Upstreams.Add(upstream);
        var sidecarOptions = SidecarOptions();
        sidecarOptions.Upstreams.Add(upstream);

        ValidateOptionsResult inProcess = new MeshOptionsValidator().Validate(null, meshOptions);
        OptionsValidationException? sidecar = Assert.Throws<OptionsValidationException>(() => _ = new MeshSidecar(sidecarOptions, new InMemoryLeafSource(), new InMemoryTrustBundleSource(), new InMemoryServiceCatalog(), new InMemoryIntentionSource()));

        const string Rule = "Datacenter: The datacenter 'dc.2' is not usable in the mesh: it holds a dot";
        Assert.Multiple(() =>
        {
            Assert.That(inProcess.Failures, Has.Some.Contains("MeshOptions.Upstreams[]." + Rule));
            Assert.That(sidecar!.Failures, Has.Some.StartsWith("SidecarOptions.Upstreams[]." + Rule));
        });
    }

    [Test]
    public void A_sidecar_upstream_needs_a_local_bind_address_and_an_in_process_one_does_not()
    {
        var upstream = new MeshUpstream { Name = "counting" };
        var meshOptions = new MeshOptions { Service = "web", Datacenter = "dc1", TrustDomain = "example.consul", ControlPlaneFile = "mesh.json" };
        meshOptions.Upstreams.Add(upstream);
        var sidecarOptions = SidecarOptions();
        sidecarOptions.Upstreams.Add(upstream);

        Assert.Multiple(() =>
        {
            Assert.That(new MeshOptionsValidator().Validate(null, meshOptions).Succeeded, Is.True);
            Assert.That(() => new MeshSidecar(sidecarOptions, new InMemoryLeafSource(), new InMemoryTrustBundleSource(), new InMemoryServiceCatalog(), new InMemoryIntentionSource()),
                Throws.TypeOf<OptionsValidationException>().With.Message.Contains("SidecarOptions.Upstreams[].LocalBindAddress is required for upstream counting@local"));
        });
    }

    [Test]
    public void Parts_left_null_are_the_callers_own_as_in_Consul()
    {
        MeshDialTarget own = new MeshUpstream { Name = "counting" }.ToTarget(Web);
        MeshDialTarget other = new MeshUpstream { Name = "counting", Namespace = "default", Datacenter = "dc2", Subset = "v2" }.ToTarget(Web);

        Assert.Multiple(() =>
        {
            Assert.That(own.Destination, Is.EqualTo(new ServiceName("counting", "team-a")));
            Assert.That(own.Datacenter, Is.EqualTo("dc1"));
            Assert.That(own.Label, Is.EqualTo("default/team-a/counting@dc1"));
            Assert.That(other.Destination, Is.EqualTo(new ServiceName("counting")));
            Assert.That(other.Label, Is.EqualTo("v2.counting@dc2"));
        });
    }

    private static SidecarOptions SidecarOptions() => new()
    {
        Service = Web,
        TrustDomain = TrustDomain.Parse("example.consul"),
        PublicListener = IPEndPoint.Parse("127.0.0.1:0"),
        LocalApplication = IPEndPoint.Parse("127.0.0.1:9"),
    };
}
