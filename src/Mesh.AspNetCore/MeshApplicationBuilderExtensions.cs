using Mesh.AspNetCore;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Per-request mesh authorization.</summary>
public static class MeshApplicationBuilderExtensions
{
    /// <summary>
    /// Applies L7 intentions to every request (path, method and header matches of <c>service-intentions</c> permissions): a
    /// denied request is answered 403 with the reason and logged. Use on an app whose endpoints use <c>ListenOptions.UseMesh()</c>.
    /// </summary>
    public static IApplicationBuilder UseMeshAuthorization(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<MeshAuthorizationMiddleware>();
    }
}
