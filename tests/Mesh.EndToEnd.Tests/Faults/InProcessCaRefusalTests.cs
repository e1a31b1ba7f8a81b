using Mesh.ControlPlane;
using Mesh.ControlPlane.File;
using Mesh.EndToEnd.Tests.Support;
using Mesh.Identity;
using Mesh.Tls.Authority;
using Mesh.Tls.InProcess;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.EndToEnd.Tests.Faults;

/// <summary>The in-process AddMesh path fails start-up on a refusal, as the sidecar does, instead of waiting for a leaf forever.</summary>
public sealed class InProcessCaRefusalTests
{
    [Test]
    public async Task A_wrong_token_fails_host_start_up_with_one_clear_refusal()
    {
        using var ca = new MeshCertificateAuthority(new MeshCaOptions { TrustDomain = TwoDatacenterMesh.TrustDomain });
        await using CaHttpServer caServer = await CaHttpServer.StartAsync(ca, [CertificateAuthorityToken.ForService("t-dashboard", new ServiceName("dashboard"))]);
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IServiceCatalog>(new InMemoryServiceCatalog());
        builder.Services.AddSingleton<IIntentionSource>(new InMemoryIntentionSource());
        builder.Services.AddMesh(o =>
        {
            o.Service = "dashboard";
            o.Datacenter = "dc1";
            o.TrustDomain = TwoDatacenterMesh.TrustDomain.Name;
            o.CertificateAuthorityAddress = caServer.Address;
            o.Token = "not-the-dashboard-token";
        });
        using IHost host = builder.Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var refused = Assert.ThrowsAsync<CertificateSigningException>(async () => await host.StartAsync(timeout.Token));

        Assert.Multiple(() =>
        {
            Assert.That(refused!.Error, Is.EqualTo(CertificateSigningError.Unauthorized));
            Assert.That(refused.Message, Does.Contain("svc/dashboard").And.Contain(caServer.Address.Authority));
            Assert.That(refused.Message, Does.Not.Contain("not-the-dashboard-token"));
            Assert.That(timeout.IsCancellationRequested, Is.False, "start-up failed at once rather than waiting");
        });
    }
}
