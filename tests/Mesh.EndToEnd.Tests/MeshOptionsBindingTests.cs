using Mesh.Tls.InProcess;
using Mesh.Tls.Outbound;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Mesh.EndToEnd.Tests;

/// <summary>The configuration keys users write for an in-process service's upstreams (appsettings.json, environment) bind to <see cref="MeshUpstream"/>.</summary>
public sealed class MeshOptionsBindingTests
{
    [Test]
    public void Upstreams_bind_from_configuration_with_their_name_namespace_datacenter_and_subset()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Mesh:Service"] = "dashboard",
            ["Mesh:Datacenter"] = "dc1",
            ["Mesh:ControlPlaneFile"] = "mesh.json",
            ["Mesh:Upstreams:0:Name"] = "counting",
            ["Mesh:Upstreams:0:Datacenter"] = "dc2",
            ["Mesh:Upstreams:1:Name"] = "billing",
            ["Mesh:Upstreams:1:Namespace"] = "finance",
            ["Mesh:Upstreams:1:Subset"] = "v2",
        }).Build();
        var services = new ServiceCollection();
        services.AddMesh(_ => { });
        services.Configure<MeshOptions>(configuration.GetSection("Mesh"));
        using ServiceProvider provider = services.BuildServiceProvider();

        MeshOptions options = provider.GetRequiredService<IOptions<MeshOptions>>().Value;

        Assert.Multiple(() =>
        {
            Assert.That(options.Upstreams.Select(u => u.ToString()), Is.EqualTo(new[] { "counting@dc2", "v2.billing.finance@local" }));
            Assert.That(options.Upstreams.Select(u => u.LocalBindAddress), Has.All.Null);
        });
    }
}
