using Mesh.AspNetCore;
using Mesh.Tls.InProcess;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Hosting;

/// <summary>Kestrel endpoints that accept mesh mTLS.</summary>
public static class MeshListenOptionsExtensions
{
    /// <summary>
    /// Makes this endpoint a mesh endpoint: mesh mTLS with the service's current leaf, the caller's X.509-SVID validated, the
    /// intentions asked (a denied caller is reset after the handshake, as by the sidecar), and the caller's identity exposed as
    /// <see cref="IMeshPeerFeature"/>. HTTP/1.1 and HTTP/2 (prior knowledge) are served. Requires <c>services.AddMesh(...)</c>.
    /// </summary>
    public static ListenOptions UseMesh(this ListenOptions listenOptions)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        MeshService mesh = listenOptions.ApplicationServices.GetService<MeshService>()
            ?? throw new InvalidOperationException("ListenOptions.UseMesh() needs the in-process mesh: call services.AddMesh(...) first.");
        // Kestrel's default is already HTTP/1.1 and HTTP/2; assigning it anyway marks the protocols as chosen explicitly, and on an
        // endpoint Kestrel does not secure itself (the mesh TLS ends in this middleware, not in UseHttps) Kestrel then warns at
        // every start that HTTP/2 is disabled. It is not: the middleware detects the HTTP/2 preface inside the mesh TLS and hands
        // Kestrel the chosen protocol, and Kestrel serves whatever the endpoint's protocols allow.
        if (listenOptions.Protocols != HttpProtocols.Http1AndHttp2)
        {
            listenOptions.Protocols = HttpProtocols.Http1AndHttp2;
        }

        // The connection is TLS to Kestrel (so h2 can be chosen without ALPN), while mesh callers address services as
        // http://name/: HTTP/2 requests carry :scheme http, which Kestrel must accept on this TLS connection.
        listenOptions.KestrelServerOptions.AllowAlternateSchemes = true;
        listenOptions.Use(next => new MeshConnectionMiddleware(next, mesh).OnConnectionAsync);
        return listenOptions;
    }
}
