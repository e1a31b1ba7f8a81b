using System.Diagnostics.Metrics;
using Mesh.ControlPlane;
using Mesh.ControlPlane.File;
using Mesh.Identity;
using Mesh.Tls.Authority.Api;
using Mesh.Tls.Diagnostics;
using Mesh.Tls.Rotation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Mesh.Tls.InProcess;

/// <summary>
/// Builds the <see cref="MeshService"/> that <c>AddMesh</c> registers: the control-plane file for the catalog and intentions,
/// and a CA client (CSR with the service's token, roots followed by blocking queries) under a rotation manager for the leaf.
/// Sources registered in the service collection (<see cref="IServiceCatalog"/>, <see cref="IIntentionSource"/>,
/// <see cref="ILeafSource"/>, <see cref="ITrustBundleSource"/>) take the place of the built ones.
/// </summary>
internal static class MeshServiceFactory
{
    public static MeshService Create(IServiceProvider services)
    {
        MeshOptions options = services.GetRequiredService<IOptions<MeshOptions>>().Value;
        ILoggerFactory loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        TimeProvider time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        IMeterFactory? meterFactory = services.GetService<IMeterFactory>();
        var owned = new List<IAsyncDisposable>();
        if (options.ControlPlaneSources is { } external)
        {
            // The sources come from another control plane (e.g. a Consul agent), which also issues the leaf: no file, no CSR.
            MeshControlPlaneSources sources = external(services)
                ?? throw new InvalidOperationException("MeshOptions.ControlPlaneSources returned null; return the leaf, bundle, catalog and intention sources.");
            if (sources.Owner is not null)
            {
                owned.Add(sources.Owner);
            }

            TrustDomain? configured = options.TrustDomain is null ? null : TrustDomain.Parse(options.TrustDomain);
            return new MeshService(options, configured, sources.Leaves, sources.Bundles, sources.Catalog, sources.Intentions, loggerFactory, time, null, owned, meterFactory, trustDomainFromLeaf: configured is null);
        }


        ControlPlaneFile? file = options.ControlPlaneFile is null
            ? null
            : ControlPlaneFile.Open(options.ControlPlaneFile, options.ControlPlanePollInterval, time, loggerFactory.CreateLogger<ControlPlaneFile>());
        if (file is not null)
        {
            owned.Add(new DisposeAdapter(file));
        }

        ControlPlaneConfiguration? configuration = file?.Configuration;
        TrustDomain trustDomain = configuration?.TrustDomain ?? TrustDomain.Parse(options.TrustDomain!);
        if (options.TrustDomain is not null && configuration is not null && !string.Equals(options.TrustDomain, configuration.TrustDomain.Name, StringComparison.OrdinalIgnoreCase))
        {
            throw new OptionsValidationException(nameof(MeshOptions), typeof(MeshOptions),
                [$"MeshOptions.TrustDomain '{options.TrustDomain}' differs from the control-plane file's '{configuration.TrustDomain.Name}'; leave it unset or make them agree."]);
        }

        IServiceCatalog catalog = services.GetService<IServiceCatalog>() ?? file
            ?? throw new InvalidOperationException("MeshOptions.ControlPlaneFile is not set and no IServiceCatalog is registered: the mesh cannot find upstream endpoints.");
        IIntentionSource intentions = services.GetService<IIntentionSource>() ?? file
            ?? throw new InvalidOperationException("MeshOptions.ControlPlaneFile is not set and no IIntentionSource is registered: the mesh cannot decide who may call this service.");

        ILeafSource? leaves = services.GetService<ILeafSource>();
        ITrustBundleSource? bundles = services.GetService<ITrustBundleSource>();
        Func<CancellationToken, Task>? bootstrap = null;
        if (leaves is null || bundles is null)
        {
            var identity = new ServiceIdentity(options.ServiceName, options.Datacenter!);
            Uri caAddress = options.CertificateAuthorityAddress ?? configuration?.CertificateAuthorityAddress
                ?? throw new InvalidOperationException("Neither MeshOptions.CertificateAuthorityAddress nor the control-plane file's CA.Address is set: the service cannot obtain its certificate.");
            string token = options.Token
                ?? configuration?.FindServiceToken(identity.Service)?.Token
                ?? throw new InvalidOperationException($"No CA token for '{identity.Service.Name}': set MeshOptions.Token (the CA signs a service's CSRs only with its token).");

            var http = new HttpClient { BaseAddress = caAddress, Timeout = Timeout.InfiniteTimeSpan };
            var ca = new MeshCaClient(http, identity.ToSpiffeId(trustDomain), token, loggerFactory.CreateLogger<MeshCaClient>());
            var rotation = new LeafRotationManager(ca, time, logger: loggerFactory.CreateLogger<LeafRotationManager>()) { Metrics = TlsMetrics.For(meterFactory) };
            owned.Add(new DisposeAdapter(http));
            owned.Add(ca);
            owned.Add(rotation);
            bundles ??= ca;
            bool ownLeaves = leaves is null;
            leaves ??= rotation;
            bootstrap = async cancellationToken =>
            {
                // Both wait out a CA that is briefly down; a refusal (wrong token, bad CSR) fails start-up with
                // CertificateSigningException instead of waiting for a leaf that will never come.
                await ca.StartAsync(cancellationToken).ConfigureAwait(false);
                if (ownLeaves)
                {
                    await rotation.StartAsync(cancellationToken).ConfigureAwait(false);
                }
            };
        }

        return new MeshService(options, trustDomain, leaves, bundles, catalog, intentions, loggerFactory, time, bootstrap, owned, meterFactory);
    }

    private sealed class DisposeAdapter(IDisposable disposable) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            disposable.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
