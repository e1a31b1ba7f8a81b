using Mesh.ControlPlane.File;
using Mesh.Tls.Authority.Api;
using Mesh.Tls.Outbound;
using Mesh.Tls.Rotation;
using Mesh.Tls.Sidecar;

namespace Mesh.Host.Roles;

/// <summary>
/// The sidecar of one service instance of the control-plane file. It bootstraps as a Consul client agent does: its own key pair,
/// a CSR to the CA role with the service's token, renewal by the rotation manager; then it opens the service's upstream
/// listeners and its public mTLS listener.
/// </summary>
internal sealed class SidecarRole(ControlPlaneFile controlPlane, HostArguments arguments, Readiness readiness, ILoggerFactory loggerFactory) : IHostedService
{
    private HttpClient? _http;
    private MeshCaClient? _ca;
    private LeafRotationManager? _rotation;
    private MeshSidecar? _sidecar;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ControlPlaneConfiguration configuration = controlPlane.Configuration;
        ServiceDefinition service = configuration.FindService(arguments.Service!)
            ?? throw HostStartupException.Configuration(
                $"the control-plane file {arguments.ConfigPath} has no service instance '{arguments.Service}' (it has: {string.Join(", ", configuration.Services.Select(s => s.Id))}); check --service.");
        if (service.IsNative)
        {
            throw HostStartupException.Configuration($"'{service.Id}' joins the mesh natively (Connect.Native); it has no sidecar.");
        }

        Uri caAddress = configuration.CertificateAuthorityAddress
            ?? throw HostStartupException.Configuration($"the control-plane file {arguments.ConfigPath} has no CA.Address: the sidecar cannot obtain a certificate.");
        string token = arguments.Token
            ?? throw HostStartupException.Configuration($"the sidecar of '{service.Id}' needs the service's CA token: pass --token TOKEN or set MESH_TOKEN.");

        _http = new HttpClient { BaseAddress = caAddress, Timeout = Timeout.InfiniteTimeSpan };
        _ca = new MeshCaClient(_http, service.Identity.ToSpiffeId(configuration.TrustDomain), token, loggerFactory.CreateLogger<MeshCaClient>());
        _rotation = new LeafRotationManager(_ca, logger: loggerFactory.CreateLogger<LeafRotationManager>());

        // The clients retry a CA that is away (each failure one warning line); a permanent refusal ends start-up at once. A CA
        // that stays away past --ca-wait ends it too, with one line, so a supervisor sees a failed start rather than a hang.
        using (var caWait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            caWait.CancelAfter(arguments.CaWait);
            try
            {
                await _ca.StartAsync(caWait.Token);
                await _rotation.StartAsync(caWait.Token);
            }
            catch (OperationCanceledException) when (caWait.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new HostStartupException(
                    HostExitCodes.CaUnreachable,
                    $"the CA at {caAddress} did not answer within {arguments.CaWait.TotalSeconds:0} s (--ca-wait): is the CA role running at the file's CA.Address?");
            }
        }

        var options = new SidecarOptions
        {
            Service = service.Identity,
            TrustDomain = configuration.TrustDomain,
            PublicListener = service.MeshAddress,
            LocalApplication = service.ApplicationAddress,
            LocalApplicationCheckAddress = service.CheckAddress,
        };
        if (service.CheckInterval is { } interval)
        {
            options.LocalApplicationCheckInterval = interval;
            options.LocalApplicationCheckTimeout = service.CheckTimeout!.Value;
        }

        foreach (UpstreamDefinition upstream in service.Upstreams)
        {
            options.Upstreams.Add(new MeshUpstream(upstream.Destination, upstream.Datacenter, upstream.LocalBindAddress));
        }

        _sidecar = new MeshSidecar(options, _rotation, _ca, controlPlane, controlPlane, loggerFactory);
        await _sidecar.StartAsync(cancellationToken);
        MeshSidecar sidecar = _sidecar;
        readiness.MarkReadyWhile(() => sidecar.IsLocalApplicationHealthy);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.MarkDraining();
        if (_sidecar is not null)
        {
            await _sidecar.StopAsync(cancellationToken);
            await _sidecar.DisposeAsync();
        }

        if (_rotation is not null)
        {
            await _rotation.DisposeAsync();
        }

        if (_ca is not null)
        {
            await _ca.DisposeAsync();
        }

        _http?.Dispose();
    }
}
