namespace Mesh.Shared;

/// <summary>
/// Counts a listener's open connections and lets a stop wait until they have all ended (a drain), without a lock on the
/// connection path: one interlocked operation per connection start and end.
/// </summary>
internal sealed class ConnectionDrain
{
    private int _active;
    private TaskCompletionSource? _drained;

    public int Active => Volatile.Read(ref _active);

    public void Enter() => Interlocked.Increment(ref _active);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _active) == 0)
        {
            Volatile.Read(ref _drained)?.TrySetResult();
        }
    }

    /// <summary>Waits until no connection is open, or <paramref name="cancellationToken"/> fires; never throws for the token.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        if (Active == 0)
        {
            drained.TrySetResult();
        }

        await drained.Task.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
