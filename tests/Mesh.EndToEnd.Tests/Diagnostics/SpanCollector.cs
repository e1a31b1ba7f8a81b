using System.Collections.Concurrent;
using System.Diagnostics;
using Mesh.Diagnostics;

namespace Mesh.EndToEnd.Tests.Diagnostics;

/// <summary>Records every span Mesh's sources finish, as a tracer subscribing to them by name would.</summary>
internal sealed class SpanCollector : IDisposable
{
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public SpanCollector()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is MeshActivitySources.Tls or MeshActivitySources.Gateway,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Waits (up to 10 s) until <paramref name="count"/> spans named <paramref name="name"/> match, then returns them.</summary>
    public async Task<IReadOnlyList<Activity>> WaitForAsync(string name, Func<Activity, bool>? match = null, int count = 1)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            List<Activity> found = [.. _spans.Where(s => s.OperationName == name && (match is null || match(s)))];
            if (found.Count >= count)
            {
                return found;
            }

            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"{count} '{name}' span(s) expected, {found.Count} recorded; all spans: {string.Join(", ", _spans.Select(s => s.OperationName))}");
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    public IEnumerable<Activity> Named(string name) => _spans.Where(s => s.OperationName == name);

    public void Dispose() => _listener.Dispose();
}
