using Microsoft.Extensions.Primitives;

namespace Mesh.ControlPlane;

/// <summary>
/// The value of a control-plane source that code sets: the current one, a wait for the first, and change tokens that fire at
/// each <see cref="Set"/>. Thread-safe.
/// </summary>
internal sealed class SettableValue<T>
    where T : class
{
    private readonly ChangeNotifier _changed = new();
    private readonly TaskCompletionSource<T> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _current;

    /// <summary>The value last set, or null before the first.</summary>
    public T? Current => Volatile.Read(ref _current);

    /// <summary>Replaces the value, completes the wait for the first one and fires the change tokens handed out.</summary>
    public void Set(T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        Volatile.Write(ref _current, value);
        _first.TrySetResult(value);
        _changed.NotifyChanged();
    }

    /// <summary>The current value, or the first one once it is set (without a task when a value is in).</summary>
    public ValueTask<T> GetAsync(CancellationToken cancellationToken)
    {
        T? current = Current;
        return current is not null ? ValueTask.FromResult(current) : new ValueTask<T>(_first.Task.WaitAsync(cancellationToken));
    }

    /// <summary>A token that fires at the next <see cref="Set"/>.</summary>
    public IChangeToken GetChangeToken() => _changed.GetChangeToken();
}
