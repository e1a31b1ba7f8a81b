using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// Hands out change tokens and fires them all when a value is replaced: what a control-plane source (<see cref="IServiceCatalog"/>,
/// <see cref="ILeafSource"/>, <see cref="ITrustBundleSource"/>, <see cref="IIntentionSource"/>) returns from <c>GetChangeToken()</c>.
/// One <see cref="CancellationTokenSource"/> per generation; thread-safe.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Each generation is disposed when replaced; the last lives as long as its owner and holds no unmanaged resource.")]
public sealed class ChangeNotifier
{
    private CancellationTokenSource _generation = new();

    /// <summary>A token that fires at the next <see cref="NotifyChanged"/>.</summary>
    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _generation).Token);

    /// <summary>Starts a new generation and fires the tokens handed out for the previous one.</summary>
    public void NotifyChanged()
    {
        CancellationTokenSource previous = Interlocked.Exchange(ref _generation, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
    }
}
