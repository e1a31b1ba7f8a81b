using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// A leaf source whose leaf is set by code: for tests, dev mode, and hosts that obtain leaves some other way.
/// </summary>
public sealed class InMemoryLeafSource : ILeafSource
{
    private readonly ChangeNotifier _notifier = new();
    private readonly TaskCompletionSource<LeafCertificate> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LeafCertificate? _current;

    /// <summary>Creates a source, optionally with a first leaf.</summary>
    public InMemoryLeafSource(LeafCertificate? initial = null)
    {
        if (initial is not null)
        {
            Set(initial);
        }
    }

    /// <inheritdoc />
    public LeafCertificate? Current => Volatile.Read(ref _current);

    /// <summary>Replaces the current leaf; new handshakes use it, open connections are untouched.</summary>
    public void Set(LeafCertificate leaf)
    {
        ArgumentNullException.ThrowIfNull(leaf);
        Volatile.Write(ref _current, leaf);
        _first.TrySetResult(leaf);
        _notifier.NotifyChanged();
    }

    /// <inheritdoc />
    public ValueTask<LeafCertificate> GetLeafAsync(CancellationToken cancellationToken)
    {
        LeafCertificate? current = Current;
        return current is not null ? ValueTask.FromResult(current) : new ValueTask<LeafCertificate>(_first.Task.WaitAsync(cancellationToken));
    }

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _notifier.GetChangeToken();
}
