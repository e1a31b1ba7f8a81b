using System.Net;
using Mesh.AspNetCore;
using Mesh.ControlPlane.File;
using Mesh.Tls.Authority;
using Mesh.Tls.Authority.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.EndToEnd.Tests.Support;

/// <summary>The CA role's HTTP API on Kestrel, mapped as samples/Mesh.Host maps it, on a loopback port picked by the system.</summary>
internal sealed class CaHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CaHttpServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<CaHttpServer> StartAsync(MeshCertificateAuthority ca, IReadOnlyList<CertificateAuthorityToken> tokens)
    {
        var api = new CertificateAuthorityApi(ca, tokens);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        app.MapMeshCertificateAuthority(api);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CaHttpServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(2)).Token);
        await _app.DisposeAsync();
    }
}
