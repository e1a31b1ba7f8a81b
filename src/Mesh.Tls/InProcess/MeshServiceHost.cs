using Microsoft.Extensions.Hosting;

namespace Mesh.Tls.InProcess;

/// <summary>Starts the <see cref="MeshService"/> with the host (first leaf and bundle before the app serves) and stops it after.</summary>
internal sealed class MeshServiceHost(MeshService service) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => service.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
