using Mesh.Intentions;
using Mesh.Tls.InProcess;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mesh.AspNetCore;

/// <summary>
/// Applies L7 intentions per request, as Envoy's RBAC filter does for Consul: the caller is the connection's authenticated
/// <see cref="IMeshPeerFeature"/>; a denied request is answered 403 with the reason and logged. A request that did not arrive
/// over a mesh connection is refused, since it carries no identity.
/// </summary>
internal sealed class MeshAuthorizationMiddleware(RequestDelegate next, MeshService mesh, ILogger<MeshAuthorizationMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        IMeshPeerFeature? peer = context.Features.Get<IMeshPeerFeature>();
        if (peer is null)
        {
            return RefuseAsync(context, "RBAC: access denied: the request did not arrive over a mesh mTLS connection");
        }

        var request = new HttpContextIntentionRequest(context);
        IntentionDecision decision = mesh.AuthorizeHttp(peer.Peer, ref request);
        if (decision.IsAllowed)
        {
            return next(context);
        }

        string reason = decision.ToString();
#pragma warning disable CA1873 // Denials are rare and always logged.
        MeshAspNetCoreLog.RequestDenied(logger, context.Request.Method, request.Target.ToString(), peer.Peer, reason, decision.IntentionIdForLog, decision.Precedence);
        return RefuseAsync(context, "RBAC: access denied: " + reason);
    }

    private static Task RefuseAsync(HttpContext context, string reason)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(reason, context.RequestAborted);
    }
}
