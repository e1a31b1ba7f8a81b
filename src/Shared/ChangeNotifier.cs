using Microsoft.Extensions.Primitives;

namespace Mesh.Shared;

/// <summary>
/// Hands out change tokens and fires them all when a value is replaced: one <see cref="CancellationTokenSource"/> per generation.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Each generation is disposed when replaced; the last lives as long as its owner and holds no unmanaged resource.")]
internal sealed class ChangeNotifier
{
    private CancellationTokenSource _generation = new();

    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _generation).Token);

    /// <summary>Starts a new generation and fires the tokens handed out for the previous one.</summary>
    public void NotifyChanged()
    {
        CancellationTokenSource previous = Interlocked.Exchange(ref _generation, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
    }
}
