using System.Net;
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

/// <summary>The CA role's HTTP API on Kestrel (as samples/Mesh.Host serves it), on a loopback port picked by the system.</summary>
internal sealed class CaHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CaHttpServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<CaHttpServer> StartAsync(MeshCertificateAuthority ca, IReadOnlyDictionary<string, string> tokens)
    {
        var api = new CertificateAuthorityApi(ca, tokens);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        WebApplication app = builder.Build();
        app.MapPost(CertificateAuthorityApi.SignPath, async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            await Write(context, api.Sign(context.Request.Headers[CertificateAuthorityApi.TokenHeader], body.GetBuffer().AsSpan(0, (int)body.Length)));
        });
        app.MapGet(CertificateAuthorityApi.RootsPath, async (HttpContext context) =>
        {
            // Consul's blocking query, shortened: wait for a change past ?index= for up to 30 s.
            if (long.TryParse(context.Request.Query["index"], out long index) && index >= api.RootsIndex)
            {
                var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using IDisposable registration = api.GetRootsChangeToken().RegisterChangeCallback(static s => ((TaskCompletionSource)s!).TrySetResult(), changed);
                if (index >= api.RootsIndex)
                {
                    await changed.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                }
            }

            await Write(context, api.GetRoots());
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CaHttpServer(app, new Uri(address));
    }

    private static async Task Write(HttpContext context, CaApiResponse response)
    {
        context.Response.StatusCode = response.StatusCode;
        context.Response.ContentType = CaApiResponse.ContentType;
        if (response.Index > 0)
        {
            context.Response.Headers[CertificateAuthorityApi.IndexHeader] = response.Index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await context.Response.Body.WriteAsync(response.Body, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(2)).Token);
        await _app.DisposeAsync();
    }
}
