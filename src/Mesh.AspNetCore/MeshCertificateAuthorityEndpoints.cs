using System.Globalization;
using System.Net;
using Mesh.Tls.Authority.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Primitives;

namespace Mesh.AspNetCore;

/// <summary>Serves the CA role's HTTP API (<see cref="CertificateAuthorityApi"/>) from an ASP.NET Core application.</summary>
public static class MeshCertificateAuthorityEndpoints
{
    private static readonly TimeSpan DefaultWait = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxWait = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Maps <c>POST /v1/connect/ca/sign</c> (bodies past <see cref="CertificateAuthorityApi.MaxRequestBodyBytes"/> are refused with
    /// 413 before they are read) and <c>GET /v1/agent/connect/ca/roots</c> (with Consul's blocking query:
    /// <c>?index=N&amp;wait=30s</c> answers when the roots change past N or the wait passes, at most 10 minutes).
    /// </summary>
    public static IEndpointRouteBuilder MapMeshCertificateAuthority(this IEndpointRouteBuilder endpoints, CertificateAuthorityApi api)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(api);
        endpoints.MapPost(CertificateAuthorityApi.SignPath, async (HttpContext context) =>
        {
            IPAddress? client = context.Connection.RemoteIpAddress;
            byte[]? body = await ReadCappedAsync(context.Request, context.RequestAborted).ConfigureAwait(false);
            if (body is null)
            {
                // The rest of the body is never read: close the connection rather than drain it.
                context.Response.Headers.Connection = "close";
                await WriteAsync(context, api.RefuseTooLarge()).ConfigureAwait(false);
                return;
            }

            string? token = context.Request.Headers[CertificateAuthorityApi.TokenHeader];
            await WriteAsync(context, api.Sign(token, body, client)).ConfigureAwait(false);
        });

        endpoints.MapGet(CertificateAuthorityApi.RootsPath, async (HttpContext context) =>
        {
            if (long.TryParse(context.Request.Query["index"], CultureInfo.InvariantCulture, out long index) && index >= api.RootsIndex)
            {
                var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using IDisposable registration = api.GetRootsChangeToken().RegisterChangeCallback(static s => ((TaskCompletionSource)s!).TrySetResult(), changed);
                if (index >= api.RootsIndex)
                {
                    await changed.Task.WaitAsync(ParseWait(context.Request.Query["wait"]), context.RequestAborted)
                        .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }

            await WriteAsync(context, api.GetRoots()).ConfigureAwait(false);
        });
        return endpoints;
    }

    // A CSR is under 2 KiB: refuse a body announced or found to be past the cap, reading at most one byte more than the cap,
    // so a 20 MB body costs the server 16 KiB.
    private static async Task<byte[]?> ReadCappedAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        const int cap = CertificateAuthorityApi.MaxRequestBodyBytes;
        if (request.ContentLength > cap)
        {
            return null;
        }

        byte[] buffer = new byte[cap + 1];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.AsSpan(0, length).ToArray();
            }

            length += read;
        }

        return null;
    }

    // Consul's wait values: "30s", "5m", or seconds without a unit.
    private static TimeSpan ParseWait(StringValues value)
    {
        string? text = value;
        if (string.IsNullOrEmpty(text) || !double.TryParse(text.TrimEnd('s', 'm'), CultureInfo.InvariantCulture, out double amount) || amount <= 0)
        {
            return DefaultWait;
        }

        TimeSpan wait = text.EndsWith('m') ? TimeSpan.FromMinutes(amount) : TimeSpan.FromSeconds(amount);
        return wait > MaxWait ? MaxWait : wait;
    }

    private static async Task WriteAsync(HttpContext context, CaApiResponse response)
    {
        context.Response.StatusCode = response.StatusCode;
        context.Response.ContentType = CaApiResponse.ContentType;
        context.Response.ContentLength = response.Body.Length;
        if (response.Index > 0)
        {
            context.Response.Headers[CertificateAuthorityApi.IndexHeader] = response.Index.ToString(CultureInfo.InvariantCulture);
        }

        await context.Response.Body.WriteAsync(response.Body, context.RequestAborted).ConfigureAwait(false);
    }
}
