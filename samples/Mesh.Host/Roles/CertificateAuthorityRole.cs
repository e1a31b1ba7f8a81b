using Mesh.ControlPlane.File;
using Mesh.Tls.Authority;
using Mesh.Tls.Authority.Api;
using Microsoft.Extensions.Primitives;

namespace Mesh.Host.Roles;

/// <summary>
/// The CA role: one mesh CA for the file's trust domain, signing for every datacenter of the file, exposed over HTTP on the
/// file's CA address. Its keys never leave this process.
/// </summary>
internal static class CertificateAuthorityRole
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    public static MeshCertificateAuthority CreateAuthority(ControlPlaneConfiguration configuration, ILoggerFactory loggerFactory)
    {
        var options = new MeshCaOptions
        {
            TrustDomain = configuration.TrustDomain,
            Datacenter = configuration.Datacenters.Count > 0 ? configuration.Datacenters[0] : "dc1",
        };
        for (int i = 1; i < configuration.Datacenters.Count; i++)
        {
            options.AdditionalDatacenters.Add(configuration.Datacenters[i]);
        }

        if (configuration.LeafTtl is TimeSpan ttl)
        {
            // A file may ask for short-lived leaves (dev mode, rotation demos); Consul's 1 h floor applies otherwise.
            options.LeafTtl = ttl;
            options.MinimumLeafTtl = ttl < options.MinimumLeafTtl ? ttl : options.MinimumLeafTtl;
        }

        return new MeshCertificateAuthority(options, logger: loggerFactory.CreateLogger<MeshCertificateAuthority>());
    }

    public static void Map(WebApplication app, CertificateAuthorityApi api)
    {
        app.MapPost(CertificateAuthorityApi.SignPath, async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            string? token = context.Request.Headers[CertificateAuthorityApi.TokenHeader];
            await Write(context, api.Sign(token, body.GetBuffer().AsSpan(0, (int)body.Length)));
        });

        app.MapGet(CertificateAuthorityApi.RootsPath, async (HttpContext context) =>
        {
            // Consul's blocking query: with ?index=N the answer waits until the roots change past N or ?wait= passes.
            if (long.TryParse(context.Request.Query["index"], out long index) && index >= api.RootsIndex)
            {
                TimeSpan wait = ParseWait(context.Request.Query["wait"]);
                var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using IDisposable registration = api.GetRootsChangeToken().RegisterChangeCallback(static s => ((TaskCompletionSource)s!).TrySetResult(), changed);
                if (index >= api.RootsIndex)
                {
                    try
                    {
                        await changed.Task.WaitAsync(wait, context.RequestAborted);
                    }
                    catch (TimeoutException)
                    {
                    }
                }
            }

            await Write(context, api.GetRoots());
        });
    }

    private static TimeSpan ParseWait(StringValues value)
    {
        string? text = value;
        if (string.IsNullOrEmpty(text))
        {
            return TimeSpan.FromMinutes(5);
        }

        double amount = double.TryParse(text.TrimEnd('s', 'm'), System.Globalization.CultureInfo.InvariantCulture, out double parsed) ? parsed : 300;
        TimeSpan wait = text.EndsWith('m') ? TimeSpan.FromMinutes(amount) : TimeSpan.FromSeconds(amount);
        return wait > MaxWait ? MaxWait : wait;
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
}
