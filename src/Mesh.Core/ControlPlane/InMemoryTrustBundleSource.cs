using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// A trust-bundle source whose bundle is set by code: for tests, dev mode, and hosts that obtain roots some other way.
/// </summary>
public sealed class InMemoryTrustBundleSource : ITrustBundleSource
{
    private readonly ChangeNotifier _notifier = new();
    private readonly TaskCompletionSource<TrustBundle> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TrustBundle _current = TrustBundle.Empty;

    /// <summary>Creates a source, optionally with a first bundle.</summary>
    public InMemoryTrustBundleSource(TrustBundle? initial = null)
    {
        if (initial is not null)
        {
            Set(initial);
        }
    }

    /// <inheritdoc />
    public TrustBundle Current => Volatile.Read(ref _current);

    /// <summary>Replaces the bundle; roots missing from the new one stop being trusted at once.</summary>
    public void Set(TrustBundle bundle)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        Volatile.Write(ref _current, bundle);
        _first.TrySetResult(bundle);
        _notifier.NotifyChanged();
    }

    /// <inheritdoc />
    public ValueTask<TrustBundle> GetBundleAsync(CancellationToken cancellationToken)
    {
        TrustBundle current = Current;
        return !ReferenceEquals(current, TrustBundle.Empty)
            ? ValueTask.FromResult(current)
            : new ValueTask<TrustBundle>(_first.Task.WaitAsync(cancellationToken));
    }

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _notifier.GetChangeToken();
}
