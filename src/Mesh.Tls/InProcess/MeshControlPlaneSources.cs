using Mesh.ControlPlane;

namespace Mesh.Tls.InProcess;

/// <summary>
/// The control-plane sources of an in-process mesh member when they come from elsewhere than the control-plane file and the
/// mesh CA, such as a Consul agent (Mesh.Consul's <c>UseConsul</c>). Returned by <see cref="MeshOptions.ControlPlaneSources"/>.
/// </summary>
public sealed class MeshControlPlaneSources
{
    /// <summary>Gathers the four sources; <see cref="MeshService.Ready"/> completes once the first leaf and bundle are in.</summary>
    /// <param name="leaves">This service's leaf certificates; the first leaf's SPIFFE ID gives the trust domain when no option sets it.</param>
    /// <param name="bundles">The trust bundle.</param>
    /// <param name="catalog">Healthy endpoints and mesh gateways of the upstreams.</param>
    /// <param name="intentions">The intentions deciding who may call this service.</param>
    public MeshControlPlaneSources(ILeafSource leaves, ITrustBundleSource bundles, IServiceCatalog catalog, IIntentionSource intentions)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        ArgumentNullException.ThrowIfNull(bundles);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(intentions);
        Leaves = leaves;
        Bundles = bundles;
        Catalog = catalog;
        Intentions = intentions;
    }

    /// <summary>This service's leaf certificates.</summary>
    public ILeafSource Leaves { get; }

    /// <summary>The trust bundle.</summary>
    public ITrustBundleSource Bundles { get; }

    /// <summary>Healthy endpoints and mesh gateways.</summary>
    public IServiceCatalog Catalog { get; }

    /// <summary>The intentions deciding who may call this service.</summary>
    public IIntentionSource Intentions { get; }

    /// <summary>What owns the sources (such as a client of the control plane); disposed with the <see cref="MeshService"/>.</summary>
    public IAsyncDisposable? Owner { get; init; }
}
