using System.Net;
using System.Net.Security;
using Mesh.ControlPlane;
using Mesh.Identity;
using Mesh.Splicing;
using Mesh.Tls.Authority;
using Mesh.Tls.InProcess;
using Mesh.Tls.MutualTls;
using Mesh.Tls.Outbound;
using Mesh.Tls.Rotation;
using Mesh.Tls.Sidecar;
using Mesh.Tls.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Mesh.Tls.Tests.Configuration;

/// <summary>
/// Each options type fails the same way whether a host validates it on start or a component is built with it directly: an
/// <see cref="OptionsValidationException"/> whose messages name every option out of range.
/// </summary>
public sealed class OptionsValidationTests
{
    private static readonly TrustDomain Td = TrustDomain.Parse("11111111-2222-3333-4444-555555555555.consul");

    [Test]
    public void Mesh_options_fail_the_host_start_and_the_service_constructor_with_the_same_messages()
    {
        static void Misconfigure(MeshOptions o)
        {
            o.Service = "web";
            o.Datacenter = "dc 1";
            o.TrustDomain = Td.Name;
            o.ControlPlaneFile = "/nonexistent/control-plane.json";
            o.HandshakeTimeout = TimeSpan.FromHours(1);
            o.DefaultIntentionPolicy = "Allow";
            o.Upstreams.Add(new MeshUpstream { Name = "api" });
            o.Upstreams.Add(new MeshUpstream { Name = "api" });
            o.Upstreams.Add(new MeshUpstream { Name = "db", Namespace = "a/b" });
        }

        var services = new ServiceCollection();
        services.AddMesh(Misconfigure);
        using ServiceProvider provider = services.BuildServiceProvider();
        OptionsValidationException? atStart = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        var options = new MeshOptions();
        Misconfigure(options);
        OptionsValidationException? atConstruction = Assert.Throws<OptionsValidationException>(() => _ = new MeshService(
            options, new InMemoryLeafSource(), new InMemoryTrustBundleSource(), new InMemoryServiceCatalog(), new InMemoryIntentionSource()));

        Assert.That(atConstruction!.Failures, Has.Some.StartsWith("MeshOptions.Datacenter: The datacenter 'dc 1'")
            .And.Some.StartsWith("MeshOptions.HandshakeTimeout must be above 0 and at most 10 minutes")
            .And.Some.StartsWith("MeshOptions.DefaultIntentionPolicy must be \"allow\", \"deny\" or unset")
            .And.Some.StartsWith("MeshOptions.Upstreams: 'api' is listed twice")
            .And.Some.StartsWith("MeshOptions.Upstreams[].Namespace: The namespace 'a/b'"));
        Assert.That(atStart!.Failures, Is.EqualTo(atConstruction.Failures));
    }

    [Test]
    public void Ca_options_fail_the_constructor_with_each_broken_constraint_named()
    {
        static void Misconfigure(MeshCaOptions o)
        {
            o.TrustDomain = Td;
            o.Datacenter = "dc.1";
            o.LeafTtl = TimeSpan.FromMinutes(5);
            o.RootCertificatePem = "-----BEGIN CERTIFICATE-----";
            o.SigningRateLimit = double.NaN;
        }

        IEnumerable<string> failures = SameAtConstructionAndStart<MeshCaOptions>(Misconfigure, o => new MeshCertificateAuthority(o).Dispose());

        Assert.That(failures, Has.Some.StartsWith("MeshCaOptions.Datacenter: The datacenter 'dc.1'")
            .And.Some.StartsWith("MeshCaOptions.LeafTtl: 00:05:00 is outside MinimumLeafTtl..MaximumLeafTtl")
            .And.Some.StartsWith("MeshCaOptions.RootCertificatePem and RootPrivateKeyPem go together")
            .And.Some.StartsWith("MeshCaOptions.SigningRateLimit: must be 0 (off) or a positive number"));
    }

    [Test]
    public void Sidecar_options_fail_the_constructor_with_nested_options_named_by_their_path()
    {
        static void Misconfigure(SidecarOptions o)
        {
            o.TrustDomain = Td;
            o.PublicListener = new IPEndPoint(IPAddress.Loopback, 0);
            o.UpstreamConnectTimeout = TimeSpan.Zero;
            o.LocalApplicationCheckInterval = TimeSpan.FromSeconds(-1);
            o.Splice = new SpliceOptions { MaxBufferedBytesPerDirection = 1 };
            o.Upstreams.Add(new MeshUpstream { Datacenter = "dc1", LocalBindAddress = new IPEndPoint(IPAddress.Loopback, 0) });
        }

        IEnumerable<string> failures = SameAtConstructionAndStart<SidecarOptions>(Misconfigure, o => _ = new MeshSidecar(
            o, new InMemoryLeafSource(), new InMemoryTrustBundleSource(), new InMemoryServiceCatalog(), new InMemoryIntentionSource()));

        Assert.That(failures, Has.Some.StartsWith("SidecarOptions.Service is required")
            .And.Some.StartsWith("SidecarOptions.LocalApplication is required")
            .And.Some.StartsWith("SidecarOptions.UpstreamConnectTimeout must be positive")
            .And.Some.StartsWith("SidecarOptions.LocalApplicationCheckInterval must be zero (no check) or positive")
            .And.Some.StartsWith("SidecarOptions.Upstreams[].Name is required")
            .And.Some.StartsWith("SidecarOptions.Splice.MaxBufferedBytesPerDirection: must be between 1024"));
    }

    [Test]
    public void Rotation_options_that_would_retry_in_a_tight_loop_fail_the_manager()
    {
        IEnumerable<string> failures = SameAtConstructionAndStart<LeafRotationOptions>(
            o => (o.RetryInitialDelay, o.MinimumRenewalInterval) = (TimeSpan.Zero, TimeSpan.Zero),
            o => _ = new LeafRotationManager(new NeverIssuer(), options: o));

        Assert.That(failures, Has.Some.StartsWith("LeafRotationOptions.RetryInitialDelay: must be positive")
            .And.Some.StartsWith("LeafRotationOptions.MinimumRenewalInterval: must be positive"));
    }

    [Test]
    public void A_negative_validation_cache_capacity_fails_the_validator()
    {
        IEnumerable<string> failures = SameAtConstructionAndStart<SvidValidatorOptions>(
            o => o.CacheCapacity = -1,
            o => _ = new SvidValidator(new InMemoryTrustBundleSource(), options: o));

        Assert.That(failures, Is.EqualTo(new[] { "SvidValidatorOptions.CacheCapacity: must be 0 (no cache) or positive (it is -1)." }));
    }

    [Test]
    public void An_empty_application_protocol_fails_the_tls_factory()
    {
        IEnumerable<string> failures = SameAtConstructionAndStart<MeshTlsOptions>(
            o => o.ApplicationProtocols.Add(default(SslApplicationProtocol)),
            o => _ = new MeshTlsFactory(new InMemoryLeafSource(), new SvidValidator(new InMemoryTrustBundleSource()), o));

        Assert.That(failures, Has.Some.StartsWith("MeshTlsOptions.ApplicationProtocols[0] is empty"));
    }

    /// <summary>
    /// Builds the component with misconfigured options and asserts that a host registering the same configuration with
    /// <c>ValidateOnStart</c> fails its start with the same messages; returns them.
    /// </summary>
    private static IEnumerable<string> SameAtConstructionAndStart<T>(Action<T> misconfigure, Action<T> construct)
        where T : class, new()
    {
        var options = new T();
        misconfigure(options);
        OptionsValidationException? atConstruction = Assert.Throws<OptionsValidationException>(() => construct(options));
        Assert.That(atConstruction!.OptionsType, Is.EqualTo(typeof(T)));

        var services = new ServiceCollection();
        services.AddOptions<T>().Configure(misconfigure).ValidateOnStart();
        services.AddSingleton(ValidatorOf<T>());
        using ServiceProvider provider = services.BuildServiceProvider();
        OptionsValidationException? atStart = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        Assert.That(atStart!.Failures, Is.EqualTo(atConstruction.Failures));
        return atConstruction.Failures;
    }

    private static IValidateOptions<T> ValidatorOf<T>()
        where T : class =>
        (IValidateOptions<T>)(typeof(T).Name switch
        {
            nameof(MeshCaOptions) => MeshCaOptionsValidator.Instance,
            nameof(SidecarOptions) => SidecarOptionsValidator.Instance,
            nameof(LeafRotationOptions) => LeafRotationOptionsValidator.Instance,
            nameof(SvidValidatorOptions) => SvidValidatorOptionsValidator.Instance,
            nameof(MeshTlsOptions) => MeshTlsOptionsValidator.Instance,
            _ => (object)MeshOptionsValidator.Instance,
        });

    private sealed class NeverIssuer : ILeafIssuer
    {
        public ReadOnlyMemory<byte> ActiveSigningKeyId => ReadOnlyMemory<byte>.Empty;

        public ValueTask<LeafCertificate> IssueAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public IChangeToken GetSigningKeyChangeToken() => new CancellationChangeToken(CancellationToken.None);
    }
}
