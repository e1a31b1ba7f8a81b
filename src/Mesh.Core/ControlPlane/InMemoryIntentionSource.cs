using Mesh.Intentions;
using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// An intention source whose snapshot is set by code: for tests, dev mode, and hosts that read <c>service-intentions</c>
/// entries themselves (see <see cref="IntentionJson"/>).
/// </summary>
public sealed class InMemoryIntentionSource : IIntentionSource
{
    private readonly ChangeNotifier _notifier = new();
    private IntentionSet _current;

    /// <summary>Creates a source, optionally with a first snapshot; without one everything is denied.</summary>
    public InMemoryIntentionSource(IntentionSet? initial = null) => _current = initial ?? IntentionSet.Empty;

    /// <inheritdoc />
    public IntentionSet Current => Volatile.Read(ref _current);

    /// <summary>Swaps in a new snapshot atomically; decisions already running finish on the one they started with.</summary>
    public void Set(IntentionSet intentions)
    {
        ArgumentNullException.ThrowIfNull(intentions);
        Volatile.Write(ref _current, intentions);
        _notifier.NotifyChanged();
    }

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => _notifier.GetChangeToken();
}
