using Microsoft.Extensions.Primitives;

namespace Mesh.Consul.Client;

/// <summary>Hands out change tokens and fires them all when a value is replaced: one <see cref="CancellationTokenSource"/> per generation.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Each generation is disposed when replaced; the last holds no unmanaged resource.")]
internal sealed class ChangeSignal
{
    private CancellationTokenSource _generation = new();

    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _generation).Token);

    public void Fire()
    {
        CancellationTokenSource previous = Interlocked.Exchange(ref _generation, new CancellationTokenSource());
        previous.Cancel();
        previous.Dispose();
    }
}
