using System.Net;
using Mesh.Tls.InProcess;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers an in-process mesh member and mesh-routed HTTP clients.</summary>
public static class MeshServiceCollectionExtensions
{
    /// <summary>
    /// Makes this application a mesh member with no sidecar: <see cref="MeshOptions"/> validated when the host starts,
    /// the <see cref="MeshService"/> singleton (identity, leaf by CSR to the CA, rotation, trust bundle, catalog and intentions
    /// from the control-plane file), and a hosted service that obtains the first leaf before the host finishes starting.
    /// </summary>
    public static IServiceCollection AddMesh(this IServiceCollection services, Action<MeshOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<MeshOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeshOptions>, MeshOptionsValidator>());
        services.TryAddSingleton(MeshServiceFactory.Create);
        services.AddHostedService<MeshServiceHost>();
        return services;
    }

    /// <summary>
    /// Sends this client's requests over the mesh: the request's host names the upstream (<c>http://counting/</c>), each
    /// connection is dialled by <see cref="MeshService.DialAsync"/>. With <paramref name="httpVersion"/> 2.0 the client speaks
    /// HTTP/2 as prior knowledge (<see cref="HttpVersionPolicy.RequestVersionExact"/>), since the mesh TLS carries no ALPN.
    /// </summary>
    public static IHttpClientBuilder AddMeshHandler(this IHttpClientBuilder builder, Version? httpVersion = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ConfigurePrimaryHttpMessageHandler(static services => services.GetRequiredService<MeshService>().CreateHttpMessageHandler());
        if (httpVersion is not null)
        {
            builder.ConfigureHttpClient(client =>
            {
                client.DefaultRequestVersion = httpVersion;
                client.DefaultVersionPolicy = httpVersion >= HttpVersion.Version20 ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower;
            });
        }

        return builder;
    }
}
