using Mesh.ControlPlane;
using Mesh.Endpoints;
using Mesh.Sni.Gateway;
using Mesh.Splicing;
using Microsoft.Extensions.Options;

namespace Mesh.Sni.Tests.Gateway;

public sealed class MeshGatewayOptionsValidationTests
{
    [Test]
    public void Invalid_options_fail_construction_with_every_option_named_and_the_messages_a_host_start_gives()
    {
        var options = new MeshGatewayOptions();
        Misconfigure(options);

        OptionsValidationException? refused = Assert.Throws<OptionsValidationException>(() => _ = new MeshGateway(options, new InMemoryServiceCatalog()));

        Assert.That(refused!.OptionsType, Is.EqualTo(typeof(MeshGatewayOptions)));
        Assert.That(refused.Failures, Has.Some.StartsWith("MeshGatewayOptions.Datacenter: 'dc.1' is not a usable datacenter name")
            .And.Some.StartsWith("MeshGatewayOptions.TrustDomain is required")
            .And.Some.StartsWith("MeshGatewayOptions.ListenEndPoints is empty")
            .And.Some.StartsWith("MeshGatewayOptions.ConnectTimeout: must be positive")
            .And.Some.StartsWith("MeshGatewayOptions.MaxClientHelloSize: must be at least 512 bytes")
            .And.Some.StartsWith("MeshGatewayOptions.Splice.IdleTimeout: must be positive")
            .And.Some.StartsWith("MeshGatewayOptions.OutlierDetection.ConsecutiveFailures: must be at least 1"));

        // A host that binds the options and validates them on start runs the same validator.
        var factory = new OptionsFactory<MeshGatewayOptions>([new ConfigureOptions<MeshGatewayOptions>(Misconfigure)], [], [MeshGatewayOptionsValidator.Instance]);
        OptionsValidationException? atStart = Assert.Throws<OptionsValidationException>(() => factory.Create(Options.DefaultName));
        Assert.That(atStart!.Failures, Is.EqualTo(refused.Failures));
    }

    private static void Misconfigure(MeshGatewayOptions options)
    {
        options.Datacenter = "dc.1";
        options.ConnectTimeout = TimeSpan.Zero;
        options.MaxClientHelloSize = 100;
        options.Splice = new SpliceOptions { IdleTimeout = TimeSpan.Zero };
        options.OutlierDetection = new OutlierDetectionOptions { ConsecutiveFailures = 0 };
    }
}
